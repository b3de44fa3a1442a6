#include "profile.h"

#include "exitcodes.h"
#include "path.h"
#include "provision.h"
#include "rootfd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE 4096
#define MAX_SKEL (64 * 1024) /* one config skeleton */

int vh_profile_valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '.' || name[i] == '_' || name[i] == '-'))
            return 0;
    return 1;
}

void vh_profile_free(vh_profile *p)
{
    char ***lists[] = {&p->programs, &p->packages, &p->files, &p->pam, &p->groups, &p->inetd, &p->syslog, &p->notes};
    int *counts[] = {&p->nprograms, &p->npackages, &p->nfiles,  &p->npam,
                     &p->ngroups,   &p->ninetd,    &p->nsyslog, &p->nnotes};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        for (int i = 0; i < *counts[l]; i++)
            free((*lists[l])[i]);
        free(*lists[l]);
        *lists[l] = NULL;
        *counts[l] = 0;
    }
    for (int i = 0; i < p->nusers; i++) {
        free(p->users[i].name);
        free(p->users[i].home);
        free(p->users[i].shell);
    }
    for (int i = 0; i < p->ndirs; i++) {
        free(p->dirs[i].path);
        free(p->dirs[i].owner);
        free(p->dirs[i].group);
    }
    for (int i = 0; i < p->nskels; i++) {
        free(p->skels[i].path);
        free(p->skels[i].data);
    }
    free(p->users);
    free(p->dirs);
    free(p->skels);
    free(p->description);
    p->users = NULL;
    p->dirs = NULL;
    p->skels = NULL;
    p->description = NULL;
    p->nusers = p->ndirs = p->nskels = 0;
}

struct parse {
    vh_profile *p;
    vh_err *e;
    int lineno;
    int oom;
};

static int bad(struct parse *x, const char *why, const char *what)
{
    char pr[160];
    vh_printable(what ? what : "", pr, sizeof pr);
    return vh_fail(x->e, VH_EX_DATAERR, "profile %s line %d: %s%s%s%s - fix the profile", x->p->name, x->lineno, why,
                   what ? " '" : "", what ? pr : "", what ? "'" : "");
}

/* Grow an array of n elements of size sz by one (zeroed): the new
 * element, or NULL (too many, or out of memory: x->e set). */
static void *grow(struct parse *x, void **arr, int *n, size_t sz, const char *what)
{
    if (*n >= VH_PROFILE_MAX_ITEMS) {
        bad(x, "too many entries (at most 256) of", what);
        return NULL;
    }
    char *a = realloc(*arr, sz * (size_t)(*n + 1));
    if (!a) {
        vh_fail(x->e, VH_EX_OSERR, "out of memory");
        return NULL;
    }
    *arr = a;
    memset(a + sz * (size_t)*n, 0, sz);
    return a + sz * (size_t)(*n)++;
}

static int push(struct parse *x, char ***arr, int *n, const char *s, const char *what)
{
    char **slot = grow(x, (void **)arr, n, sizeof **arr, what);
    if (!slot)
        return -1;
    if (!(*slot = strdup(s))) {
        (*n)--;
        return vh_fail(x->e, VH_EX_OSERR, "out of memory");
    }
    return 0;
}

/* A name of a user, group, package or PAM service: no blank, no
 * control character, no '/' or ':' (it ends in a path or a passwd line). */
static int plain_word(const char *s)
{
    if (!*s || strlen(s) > 255)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '/' || *s == ':')
            return 0;
    return 1;
}

static int owner_word(const char *s)
{
    return strcmp(s, "@user") == 0 || strcmp(s, "@group") == 0 || (plain_word(s) && s[0] != '@');
}

static int parse_mode(const char *s, unsigned max, unsigned *out)
{
    size_t n = strlen(s);
    if (n < 3 || n > 5)
        return -1;
    unsigned m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '7')
            return -1;
        m = m * 8 + (unsigned)(s[i] - '0');
    }
    if (m & ~max)
        return -1;
    *out = m;
    return 0;
}

/* A clean absolute path that may end up in a passwd line or a jail. */
static int path_word(const char *s)
{
    return vh_provision_clean_path(s) && !strchr(s, ':') && !strchr(s, ' ') && !strchr(s, '\t');
}

/* Split line into at most max blank-separated words (in place). */
static int words(char *line, char **w, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return max + 1;
        w[n++] = t;
    }
    return n;
}

static int directive(struct parse *x, char *line, int *skel)
{
    vh_profile *p = x->p;
    char *rest = line + strcspn(line, " \t");
    if (*rest)
        *rest++ = '\0';
    rest += strspn(rest, " \t");
    const char *kw = line;
    *skel = 0;
    /* rest of the line, as text */
    if (strcmp(kw, "description") == 0 || strcmp(kw, "inetd") == 0 || strcmp(kw, "note") == 0) {
        if (!*rest)
            return bad(x, "needs text after", kw);
        if (strcmp(kw, "inetd") == 0)
            return push(x, &p->inetd, &p->ninetd, rest, kw);
        if (strcmp(kw, "note") == 0)
            return push(x, &p->notes, &p->nnotes, rest, kw);
        if (p->description)
            return bad(x, "a second", kw);
        p->description = strdup(rest);
        return p->description ? 0 : vh_fail(x->e, VH_EX_OSERR, "out of memory");
    }
    char *w[6];
    int n = words(rest, w, 5);
    if (strcmp(kw, "program") == 0 || strcmp(kw, "file") == 0 || strcmp(kw, "syslog") == 0) {
        if (n != 1 || !path_word(w[0]))
            return bad(x, "needs one clean absolute path (no '.', '..', '//', ':' or blank) after", kw);
        if (strcmp(kw, "program") == 0)
            return push(x, &p->programs, &p->nprograms, w[0], kw);
        if (strcmp(kw, "file") == 0)
            return push(x, &p->files, &p->nfiles, w[0], kw);
        return push(x, &p->syslog, &p->nsyslog, w[0], kw);
    }
    if (strcmp(kw, "package") == 0 || strcmp(kw, "pam") == 0 || strcmp(kw, "group") == 0) {
        if (n != 1 || !plain_word(w[0]))
            return bad(x, "needs one name (no blank, '/' or ':') after", kw);
        if (strcmp(kw, "package") == 0)
            return push(x, &p->packages, &p->npackages, w[0], kw);
        if (strcmp(kw, "pam") == 0)
            return push(x, &p->pam, &p->npam, w[0], kw);
        return push(x, &p->groups, &p->ngroups, w[0], kw);
    }
    if (strcmp(kw, "gconv") == 0) {
        if (n != 0)
            return bad(x, "takes nothing after", kw);
        p->gconv = 1;
        return 0;
    }
    if (strcmp(kw, "user") == 0) {
        if (n < 1 || n > 3 || !plain_word(w[0]) || w[0][0] == '@')
            return bad(x, "needs a user name, then optionally home=PATH shell=PATH, after", kw);
        char *home = NULL, *shell = NULL;
        for (int i = 1; i < n; i++) {
            char **slot = strncmp(w[i], "home=", 5) == 0 ? &home : strncmp(w[i], "shell=", 6) == 0 ? &shell : NULL;
            const char *val = slot == &home ? w[i] + 5 : w[i] + 6;
            if (!slot || *slot || !path_word(val))
                return bad(x, "expected home=PATH or shell=PATH (a clean absolute path, once each), not", w[i]);
            *slot = (char *)val;
        }
        vh_profile_user *u = grow(x, (void **)&p->users, &p->nusers, sizeof *u, kw);
        if (!u)
            return -1;
        u->name = strdup(w[0]);
        u->home = home ? strdup(home) : NULL;
        u->shell = shell ? strdup(shell) : NULL;
        if (!u->name || (home && !u->home) || (shell && !u->shell))
            return vh_fail(x->e, VH_EX_OSERR, "out of memory");
        return 0;
    }
    if (strcmp(kw, "dir") == 0) {
        unsigned mode;
        if (n != 4 || !path_word(w[0]) || strcmp(w[0], "/") == 0)
            return bad(x, "expected dir PATH MODE OWNER GROUP (PATH clean, absolute, not /), not", rest);
        if (parse_mode(w[1], 01777, &mode) < 0)
            return bad(x, "a directory mode is octal, at most 1777 (no set-uid or set-gid), not", w[1]);
        if (!owner_word(w[2]) || !owner_word(w[3]))
            return bad(x, "an owner and group are root, a name, @user or @group, not", rest);
        vh_profile_dir *d = grow(x, (void **)&p->dirs, &p->ndirs, sizeof *d, kw);
        if (!d)
            return -1;
        d->mode = mode;
        d->path = strdup(w[0]);
        d->owner = strdup(w[2]);
        d->group = strdup(w[3]);
        if (!d->path || !d->owner || !d->group)
            return vh_fail(x->e, VH_EX_OSERR, "out of memory");
        return 0;
    }
    if (strcmp(kw, "skel") == 0) {
        unsigned mode;
        if (n != 2 || !path_word(w[0]))
            return bad(x, "expected skel PATH MODE (PATH clean and absolute), then its lines each starting with '|'",
                       NULL);
        if (parse_mode(w[1], 0755, &mode) < 0)
            return bad(x, "a file mode is octal, at most 0755 (root's file, not writable by group or others), not",
                       w[1]);
        for (int i = 0; i < p->nskels; i++)
            if (strcmp(p->skels[i].path, w[0]) == 0)
                return bad(x, "a second skel for", w[0]);
        vh_profile_skel *s = grow(x, (void **)&p->skels, &p->nskels, sizeof *s, kw);
        if (!s)
            return -1;
        s->mode = mode;
        s->path = strdup(w[0]);
        s->data = strdup("");
        if (!s->path || !s->data)
            return vh_fail(x->e, VH_EX_OSERR, "out of memory");
        *skel = 1;
        return 0;
    }
    return bad(x, "unknown directive (see doc/jails.md, Profiles)", kw);
}

int vh_profile_parse(const char *name, const char *text, size_t len, vh_profile *p, vh_err *e)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    struct parse x = {p, e, 0, 0};
    if (len > VH_PROFILE_MAX_BYTES)
        return vh_fail(e, VH_EX_DATAERR, "profile %s is larger than %d bytes - split it", name, VH_PROFILE_MAX_BYTES);
    if (memchr(text, '\0', len))
        return vh_fail(e, VH_EX_DATAERR, "profile %s holds a NUL byte: not a text file", name);
    int in_skel = 0;
    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        x.lineno++;
        if (n > MAX_LINE)
            return bad(&x, "a line longer than 4096 bytes", NULL);
        char line[MAX_LINE + 1];
        memcpy(line, s, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)line[i] < ' ' && line[i] != '\t')
                return bad(&x, "a control character in the line", NULL);
        if (line[0] == '|') {
            if (!in_skel)
                return bad(&x, "a '|' line belongs right after a skel line (or another '|' line)", NULL);
            vh_profile_skel *sk = &p->skels[p->nskels - 1];
            const char *t = line + 1 + (line[1] == ' ');
            size_t tl = strlen(t);
            if (sk->len + tl + 1 > MAX_SKEL)
                return bad(&x, "a skel larger than 64 KiB", NULL);
            char *d = realloc(sk->data, sk->len + tl + 2);
            if (!d)
                return vh_fail(e, VH_EX_OSERR, "out of memory");
            memcpy(d + sk->len, t, tl);
            sk->len += tl;
            d[sk->len++] = '\n';
            d[sk->len] = '\0';
            sk->data = d;
            continue;
        }
        char *l = line + strspn(line, " \t");
        for (size_t k = strlen(l); k && (l[k - 1] == ' ' || l[k - 1] == '\t');)
            l[--k] = '\0';
        in_skel = 0;
        if (!*l || *l == '#')
            continue;
        if (directive(&x, l, &in_skel) < 0)
            return -1;
    }
    if (!p->nprograms && !p->npackages && !p->nfiles)
        return vh_fail(e, VH_EX_DATAERR, "profile %s names no program, package or file - a profile installs a service",
                       name);
    return 0;
}

int vh_profile_load(const char *dir, const char *spec, vh_profile *p, vh_err *e)
{
    memset(p, 0, sizeof *p);
    char path[PATH_MAX], name[64];
    if (strchr(spec, '/')) {
        if (!vh_provision_clean_path(spec))
            return vh_fail(e, VH_EX_USAGE,
                           "--profile %s: give a clean absolute path (no '.', '..' or '//') or a "
                           "profile name",
                           spec);
        snprintf(path, sizeof path, "%s", spec);
        const char *b = strrchr(spec, '/') + 1;
        size_t bl = strlen(b);
        if (bl > 8 && strcmp(b + bl - 8, ".profile") == 0)
            bl -= 8;
        snprintf(name, sizeof name, "%.*s", (int)(bl < 63 ? bl : 63), b);
    } else {
        if (!vh_profile_valid_name(spec))
            return vh_fail(e, VH_EX_USAGE,
                           "--profile %s: not a profile name (letters, digits, '.', '_', '-'; "
                           "vhostctl provision --list-profiles lists them)",
                           spec);
        if ((size_t)snprintf(path, sizeof path, "%s/%s.profile", dir, spec) >= sizeof path)
            return vh_fail(e, VH_EX_USAGE, "--profile-dir %s: too long", dir);
        snprintf(name, sizeof name, "%s", spec);
    }
    struct stat st;
    if (!strchr(spec, '/') && stat(path, &st) < 0 && errno == ENOENT)
        return vh_fail(e, VH_EX_NOINPUT, "no profile %s in %s (vhostctl provision --list-profiles%s%s lists them)",
                       spec, dir, strcmp(dir, VH_PROFILE_DIR) ? " --profile-dir " : "",
                       strcmp(dir, VH_PROFILE_DIR) ? dir : "");
    int fd = -1;
    vh_err te;
    if (vh_path_trust(path, VH_WANT_FILE, VH_EX_NOPERM, &fd, NULL, &te) < 0)
        return vh_fail(e, te.code,
                       "profile %s is not trusted: %s (a profile makes root copy files into jails: it "
                       "and every directory above it must be root's and not writable by group or others)",
                       path, te.msg);
    /* The trusted descriptor is O_PATH: the file is opened again, without
     * following a symlink, and must be the same inode. */
    struct stat tst, fst;
    int rfd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int same = rfd >= 0 && fstat(fd, &tst) == 0 && fstat(rfd, &fst) == 0 && tst.st_ino == fst.st_ino &&
               tst.st_dev == fst.st_dev;
    close(fd);
    if (!same) {
        if (rfd >= 0)
            close(rfd);
        return vh_fail(e, VH_EX_NOPERM, "profile %s changed while vhostctl read it - run it again", path);
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    int r = vh_rootfd_read_all(rfd, VH_PROFILE_MAX_BYTES, &buf, &len);
    int err = errno;
    close(rfd);
    if (r < 0)
        return vh_fail(e, VH_EX_DATAERR, "cannot read profile %s: %s", path,
                       err == EFBIG ? "larger than 256 KiB" : strerror(err));
    r = vh_profile_parse(name, (const char *)buf, len, p, e);
    free(buf);
    return r;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int vh_profile_list(const char *dir, char ***names, vh_err *e)
{
    *names = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return vh_fail(e, VH_EX_NOINPUT, "cannot list profiles in %s: %s", dir, strerror(errno));
    int n = 0;
    char **v = NULL;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        size_t l = strlen(de->d_name);
        if (l <= 8 || strcmp(de->d_name + l - 8, ".profile") != 0)
            continue;
        char nm[64];
        if (l - 8 >= sizeof nm)
            continue;
        snprintf(nm, sizeof nm, "%.*s", (int)(l - 8), de->d_name);
        if (!vh_profile_valid_name(nm))
            continue;
        char **nv = realloc(v, sizeof *v * (size_t)(n + 1));
        if (!nv || !(nv[n] = strdup(nm))) {
            v = nv ? nv : v;
            for (int i = 0; i < n; i++)
                free(v[i]);
            free(v);
            closedir(d);
            return vh_fail(e, VH_EX_OSERR, "out of memory");
        }
        v = nv;
        n++;
    }
    closedir(d);
    qsort(v, (size_t)n, sizeof *v, cmp_names);
    *names = v;
    return n;
}
