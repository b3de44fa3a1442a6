#include "log.h"

#include "err.h"

#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

void vh_log_open(const char *ident)
{
    int opts = LOG_PID | LOG_NDELAY;
    if (isatty(2))
        opts |= LOG_PERROR;
    /* tzset now: the logger must never read the jail's /etc/localtime. */
    tzset();
    openlog(ident, opts, LOG_DAEMON);
}

void vh_log(int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsyslog(prio, fmt, ap);
    va_end(ap);
}

char *vh_log_value(const char *s, char *out, size_t n)
{
    char tmp[2048];
    vh_printable(s, tmp, sizeof tmp);
    int quote = tmp[0] == '\0' || strpbrk(tmp, " \"=") != NULL;
    size_t o = 0;
    if (n < 3) {
        if (n)
            out[0] = '\0';
        return out;
    }
    if (quote)
        out[o++] = '"';
    for (const char *p = tmp; *p && o + 5 < n; p++) {
        if (*p == '"') {
            memcpy(out + o, "\\x22", 4);
            o += 4;
        } else {
            out[o++] = *p;
        }
    }
    if (quote)
        out[o++] = '"';
    out[o] = '\0';
    return out;
}
