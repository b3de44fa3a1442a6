#include "valid.h"

#include "exitcodes.h"

#include <limits.h>
#include <string.h>

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int vh_valid_service(const char *s, int allow_any, vh_err *e)
{
    char shown[4 * VH_SERVICE_MAX + 8];
    if (allow_any && strcmp(s, VH_SERVICE_ANY) == 0)
        return 0;
    size_t len = strlen(s);
    vh_printable(s, shown, sizeof shown);
    if (len == 0)
        return vh_fail(e, VH_EX_DATAERR,
                       "empty service name - give the name from inetd.conf's first column, e.g. 'ftp'");
    if (len > VH_SERVICE_MAX)
        return vh_fail(e, VH_EX_DATAERR, "service name '%.40s...' is longer than %d bytes", shown, VH_SERVICE_MAX);
    if (!is_alnum((unsigned char)s[0]))
        return vh_fail(e, VH_EX_DATAERR, "service name '%s' must start with a letter or digit%s", shown,
                       allow_any ? " (or be '*' for every service)" : "");
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!is_alnum(c) && c != '.' && c != '_' && c != '-' && c != '+')
            return vh_fail(e, VH_EX_DATAERR,
                           "service name '%s' has the character '%s' - use letters, digits and . _ + - only", shown,
                           c >= 0x20 && c < 0x7f ? (char[]){(char)c, 0} : "\\x..");
    }
    return 0;
}

/* what: how messages name the path ("jail directory", "path"). */
static int valid_abs(const char *path, const char *what, vh_err *e)
{
    char shown[512];
    vh_printable(path, shown, sizeof shown);
    size_t len = strlen(path);
    if (len == 0)
        return vh_fail(e, VH_EX_DATAERR, "empty %s - give an absolute path such as /srv/jail/example", what);
    if (len >= PATH_MAX)
        return vh_fail(e, VH_EX_DATAERR, "%s is longer than %d bytes", what, PATH_MAX - 1);
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return vh_fail(e, VH_EX_DATAERR, "%s '%s' contains a control character - rename the directory", what,
                           shown);
    if (path[0] != '/')
        return vh_fail(e, VH_EX_DATAERR, "%s '%s' is relative - give an absolute path starting with /", what, shown);
    if (len == 1)
        return 0;
    if (path[len - 1] == '/')
        return vh_fail(e, VH_EX_DATAERR, "%s '%s' ends with '/' - write it without the trailing slash", what, shown);
    /* every component between slashes must be non-empty and not . or .. */
    const char *c = path + 1;
    for (;;) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        if (n == 0)
            return vh_fail(e, VH_EX_DATAERR, "%s '%s' contains '//' - write each separator once", what, shown);
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return vh_fail(e, VH_EX_DATAERR, "%s '%s' contains a '.' or '..' component - give the canonical path", what,
                           shown);
        if (!end)
            break;
        c = end + 1;
    }
    return 0;
}

int vh_valid_root(const char *path, vh_err *e)
{
    return valid_abs(path, "jail directory", e);
}

int vh_valid_path(const char *path, vh_err *e)
{
    return valid_abs(path, "path", e);
}

int vh_valid_max_procs(const char *text, uint32_t *out, vh_err *e)
{
    /* digits only: no sign, blank, hex or suffix that strtoul would take */
    size_t n = strlen(text);
    if (n == 0 || n > 10 || strspn(text, "0123456789") != n)
        return vh_fail(e, VH_EX_DATAERR,
                       "max-procs '%.32s' is not a number - give the most processes the domain may run, 1 to %u", text,
                       VH_MAX_PROCS_MAX);
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(text[i] - '0');
    if (v < 1 || v > VH_MAX_PROCS_MAX)
        return vh_fail(e, VH_EX_DATAERR, "max-procs %s is out of range - give 1 to %u (default %u)", text,
                       VH_MAX_PROCS_MAX, VH_MAX_PROCS_DEFAULT);
    *out = (uint32_t)v;
    return 0;
}
