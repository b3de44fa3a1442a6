#include "provision.h"

#include "deps.h"
#include "exitcodes.h"
#include "path.h"
#include "rootfd.h"
#include "valid.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_LDCONF_DIRS 64
#define MAX_COPY ((size_t)1 << 30)

/* ---- /etc/ld.so.conf ---------------------------------------------- */

static int ldconf_read(const char *conf, char **dirs, int n, int max, int depth)
{
    FILE *f = fopen(conf, "re");
    if (!f)
        return n;
    char line[PATH_MAX];
    while (n < max && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line + strspn(line, " \t");
        s[strcspn(s, "\r\n")] = '\0';
        for (size_t len = strlen(s); len && (s[len - 1] == ' ' || s[len - 1] == '\t');)
            s[--len] = '\0';
        if (!*s)
            continue;
        if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
            if (depth >= 4)
                continue;
            char *pat = s + 8 + strspn(s + 8, " \t");
            glob_t g;
            if (glob(pat, 0, NULL, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc && n < max; i++)
                    n = ldconf_read(g.gl_pathv[i], dirs, n, max, depth + 1);
                globfree(&g);
            }
            continue;
        }
        if (s[0] != '/')
            continue; /* hwcap lines and the like */
        int dup = 0;
        for (int i = 0; i < n && !dup; i++)
            dup = strcmp(dirs[i], s) == 0;
        if (!dup && (dirs[n] = strdup(s)) != NULL)
            n++;
    }
    fclose(f);
    return n;
}

int vh_ldconf_dirs(const char *conf, char **dirs, int max)
{
    return ldconf_read(conf, dirs, 0, max, 0);
}

/* ---- writing inside the jail -------------------------------------- */

struct prov {
    vh_provision *p;
    int rootfd;
    vh_err *e;
    int failed;
    unsigned tmpseq;
};

static void note(struct prov *v, const char *what, const char *in)
{
    char hp[2 * PATH_MAX];
    snprintf(hp, sizeof hp, "%s%s", v->p->root, in);
    if (v->p->note)
        v->p->note(v->p->ctx, what, hp);
    if (strcmp(what, "unchanged") == 0)
        v->p->unchanged++;
    else
        v->p->written++;
}

/* We write only into directories that nobody but root can change:
 * otherwise a tenant could swap what we write between our steps. */
static int trusted_dir(struct prov *v, int fd, const char *in)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return vh_fail(v->e, VH_EX_IOERR, "cannot stat %s%s: %s", v->p->root, in, strerror(errno));
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return vh_fail(v->e, VH_EX_OSFILE,
                       "jail directory %s%s is owned by uid %u with mode %04o: provision writes only into root-owned "
                       "directories not writable by group or others - chown root %s%s && chmod go-w %s%s",
                       v->p->root, in, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), v->p->root, in, v->p->root,
                       in);
    return 0;
}

/* Open directory dir (absolute, inside the jail), creating each missing
 * component root-owned 0755. Returns an O_PATH fd or -1. */
static int mkdirs(struct prov *v, const char *dir)
{
    int fd = vh_rootfd_open(v->rootfd, dir, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0 || errno != ENOENT) {
        if (fd < 0)
            return vh_fail(v->e, VH_EX_CANTCREAT, "cannot open %s%s: %s", v->p->root, dir, strerror(errno));
        return fd;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    char name[NAME_MAX + 1];
    snprintf(name, sizeof name, "%.*s", NAME_MAX, slash ? slash + 1 : parent);
    if (slash == parent)
        parent[1] = '\0';
    else if (slash)
        *slash = '\0';
    int pfd = slash && slash != parent ? mkdirs(v, parent) : vh_rootfd_open(v->rootfd, "/", O_PATH | O_DIRECTORY, 0);
    if (pfd < 0)
        return slash && slash != parent
                   ? -1
                   : vh_fail(v->e, VH_EX_CANTCREAT, "cannot open %s: %s", v->p->root, strerror(errno));
    if (trusted_dir(v, pfd, slash == parent ? "" : parent) < 0) {
        close(pfd);
        return -1;
    }
    if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST) {
        int err = errno;
        close(pfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot create directory %s%s: %s", v->p->root, dir, strerror(err));
    }
    int d = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(pfd);
    if (d < 0)
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot open new directory %s%s: %s", v->p->root, dir, strerror(errno));
    struct stat st;
    if (fstat(d, &st) == 0 && (st.st_uid != 0 || st.st_gid != 0 || (st.st_mode & 07777) != 0755)) {
        if (fchown(d, 0, 0) < 0 || fchmod(d, 0755) < 0) {
            int err = errno;
            close(d);
            return vh_fail(v->e, VH_EX_CANTCREAT, "cannot set owner and mode of %s%s: %s", v->p->root, dir,
                           strerror(err));
        }
        note(v, "created", dir);
    }
    return d;
}

/* Split in (absolute, inside the jail) into its directory and name and
 * open the directory (created when missing, and trusted). */
static int open_parent(struct prov *v, const char *in, char *name, size_t n)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", in);
    char *slash = strrchr(dir, '/');
    if (!slash || !slash[1])
        return vh_fail(v->e, VH_EX_SOFTWARE, "bad jail path %s", in);
    snprintf(name, n, "%s", slash + 1);
    if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = mkdirs(v, dir);
    if (fd < 0)
        return -1;
    if (trusted_dir(v, fd, strcmp(dir, "/") ? dir : "") < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int tmpname(struct prov *v, char *out, size_t n)
{
    return snprintf(out, n, ".vh-provision.%ld.%u", (long)getpid(), v->tmpseq++);
}

/* Install data as regular file in (inside the jail), root:root, mode. */
static int install_data(struct prov *v, const char *in, const unsigned char *data, size_t len, mode_t mode)
{
    char name[NAME_MAX + 1];
    int dfd = open_parent(v, in, name, sizeof name);
    if (dfd < 0)
        return -1;
    int result = -1;
    /* Unchanged? Opened without following: a symlink here is replaced. */
    int old = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (old >= 0) {
        struct stat st;
        unsigned char *cur = NULL;
        size_t curlen = 0;
        int same = fstat(old, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 && st.st_gid == 0 &&
                   (st.st_mode & 07777) == mode && (size_t)st.st_size == len &&
                   vh_read_all(old, MAX_COPY, &cur, &curlen) == 0 && curlen == len && memcmp(cur, data, len) == 0;
        free(cur);
        close(old);
        if (same) {
            note(v, "unchanged", in);
            close(dfd);
            return 0;
        }
    }
    char tmp[64];
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        tmpname(v, tmp, sizeof tmp);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        vh_fail(v->e, VH_EX_CANTCREAT, "cannot create a file next to %s%s: %s", v->p->root, in, strerror(errno));
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            vh_fail(v->e, VH_EX_IOERR, "writing %s%s: %s", v->p->root, in, strerror(errno));
            goto fail;
        }
        off += (size_t)w;
    }
    if (fchown(fd, 0, 0) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        vh_fail(v->e, VH_EX_IOERR, "finishing %s%s: %s", v->p->root, in, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    if (renameat(dfd, tmp, dfd, name) < 0) {
        vh_fail(v->e, VH_EX_CANTCREAT, "cannot put %s%s in place: %s%s", v->p->root, in, strerror(errno),
                errno == EISDIR ? " - a directory has that name; remove it" : "");
        goto fail;
    }
    note(v, old >= 0 ? "updated" : "created", in);
    result = 0;
    goto out;
fail:
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
out:
    close(dfd);
    return result;
}

static int install_device(struct prov *v, const char *in, unsigned major, unsigned minor)
{
    char name[NAME_MAX + 1];
    int dfd = open_parent(v, in, name, sizeof name);
    if (dfd < 0)
        return -1;
    struct stat st;
    dev_t want = makedev(major, minor);
    int exists = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && S_ISCHR(st.st_mode) && st.st_rdev == want && st.st_uid == 0 && st.st_gid == 0 &&
        (st.st_mode & 07777) == 0666) {
        note(v, "unchanged", in);
        close(dfd);
        return 0;
    }
    char tmp[64];
    int r = -1;
    for (int tries = 0; r < 0 && tries < 100; tries++) {
        tmpname(v, tmp, sizeof tmp);
        r = mknodat(dfd, tmp, S_IFCHR | 0600, want);
        if (r < 0 && errno != EEXIST)
            break;
    }
    if (r < 0) {
        int err = errno;
        close(dfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot create device %s%s: %s", v->p->root, in, strerror(err));
    }
    /* The directory is root's alone (trusted_dir): tmp is still ours. */
    if (fchownat(dfd, tmp, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(dfd, tmp, 0666, 0) < 0 ||
        renameat(dfd, tmp, dfd, name) < 0) {
        int err = errno;
        unlinkat(dfd, tmp, 0);
        close(dfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot put device %s%s in place: %s", v->p->root, in, strerror(err));
    }
    close(dfd);
    note(v, exists ? "updated" : "created", in);
    return 0;
}

/* ---- the programs ------------------------------------------------- */

static int host_problem(struct prov *v, const vh_dep *d)
{
    if (!d->problem && d->path)
        return 0;
    vh_fail(v->e, VH_EX_NOINPUT, "on the host, %s %s%s%s %s - install it on the host first", vh_dep_kind_name(d->kind),
            d->path ? d->path : d->name, d->by ? " needed by " : "", d->by ? d->by : "", d->problem);
    v->failed = 1;
    return 1;
}

/* The first pass: is everything there on the host? Nothing is written
 * unless every program can be installed whole. */
static int probe_dep(void *ctx, const vh_dep *d)
{
    return host_problem(ctx, d);
}

static int copy_dep(void *ctx, const vh_dep *d)
{
    struct prov *v = ctx;
    if (host_problem(v, d))
        return 1;
    char in[PATH_MAX];
    if (d->extra)
        snprintf(in, sizeof in, "/usr/lib/%s", d->name); /* see provision.h */
    else
        snprintf(in, sizeof in, "%s", d->path);
    unsigned char *buf = NULL;
    size_t len = 0;
    if (vh_read_all(d->fd, MAX_COPY, &buf, &len) < 0) {
        vh_fail(v->e, VH_EX_IOERR, "cannot read %s on the host: %s", d->path, strerror(errno));
        v->failed = 1;
        return 1;
    }
    /* Never set-uid/set-gid, never writable by group or others. */
    mode_t mode = d->st->st_mode & 0755;
    if (d->kind != VH_DEP_LIBRARY)
        mode |= 0555;
    else
        mode |= 0444;
    int r = install_data(v, in, buf, len, mode);
    free(buf);
    if (r < 0) {
        v->failed = 1;
        return 1;
    }
    return 0;
}

static int install_identity(struct prov *v)
{
    char passwd[1024], group[1024];
    const vh_row *u = v->p->user;
    int np = snprintf(passwd, sizeof passwd, "root:x:0:0:root:/:/nonexistent\n");
    int ng = snprintf(group, sizeof group, "root:x:0:\n");
    if (u && u->has_user) {
        np += snprintf(passwd + np, sizeof passwd - (size_t)np, "%s:x:%u:%u::/:/nonexistent\n", u->user,
                       (unsigned)u->uid, (unsigned)u->gid);
        ng += snprintf(group + ng, sizeof group - (size_t)ng, "%s:x:%u:\n", u->group, (unsigned)u->gid);
    }
    if (install_data(v, "/etc/passwd", (unsigned char *)passwd, strlen(passwd), 0644) < 0 ||
        install_data(v, "/etc/group", (unsigned char *)group, strlen(group), 0644) < 0)
        return -1;
    return 0;
}

/* Create ROOT when missing: its parent must already be trusted. */
static int make_root(const char *root, vh_err *e)
{
    struct stat st;
    if (lstat(root, &st) == 0)
        return 0;
    if (errno != ENOENT)
        return vh_fail(e, VH_EX_OSFILE, "cannot stat %s: %s", root, strerror(errno));
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", root);
    char *slash = strrchr(parent, '/');
    char name[NAME_MAX + 1];
    snprintf(name, sizeof name, "%.*s", NAME_MAX, slash + 1);
    if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    int pfd = -1;
    vh_err pe;
    if (vh_path_trust(parent, VH_WANT_DIR, VH_EX_OSFILE, &pfd, NULL, &pe) < 0)
        return vh_fail(e, VH_EX_OSFILE, "cannot create jail %s: its parent is not trusted: %s", root, pe.msg);
    int result = 0;
    if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST) {
        result = vh_fail(e, VH_EX_CANTCREAT, "cannot create jail %s: %s", root, strerror(errno));
    } else {
        int d = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0 || fchown(d, 0, 0) < 0 || fchmod(d, 0755) < 0)
            result = vh_fail(e, VH_EX_CANTCREAT, "cannot set owner and mode of jail %s: %s", root, strerror(errno));
        if (d >= 0)
            close(d);
    }
    close(pfd);
    return result;
}

int vh_provision_run(vh_provision *p, vh_err *e)
{
    p->written = p->unchanged = 0;
    if (vh_root_valid(p->root, e) < 0)
        return -1;
    if (strcmp(p->root, "/") == 0)
        return vh_fail(e, VH_EX_USAGE, "refusing to provision / - give the jail directory");
    for (int i = 0; i < p->nprograms; i++)
        if (p->programs[i][0] != '/')
            return vh_fail(e, VH_EX_USAGE, "--program %s: give the program's absolute path on the host (command -v %s)",
                           p->programs[i], p->programs[i]);
    struct prov v = {p, -1, e, 0, 0};
    int hostfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (hostfd < 0)
        return vh_fail(e, VH_EX_OSERR, "cannot open /: %s", strerror(errno));
    char *extra[MAX_LDCONF_DIRS];
    int nextra = vh_ldconf_dirs("/etc/ld.so.conf", extra, MAX_LDCONF_DIRS);
    vh_deps_opts o = {NULL, (const char *const *)extra, nextra};
    int result = 0;
    for (int i = 0; i < p->nprograms && result == 0; i++)
        if (vh_deps_walk(hostfd, p->programs[i], &o, probe_dep, &v, e) < 0 || v.failed)
            result = -1;
    struct stat st;
    int created = lstat(p->root, &st) < 0;
    if (result == 0 && make_root(p->root, e) < 0)
        result = -1;
    /* The same trust as virtuald's before anything is written. */
    if (result == 0 && vh_path_trust(p->root, VH_WANT_DIR, VH_EX_OSFILE, &v.rootfd, NULL, e) < 0)
        result = -1;
    if (result == 0 && created)
        note(&v, "created", "");
    for (int i = 0; i < p->nprograms && result == 0; i++)
        if (vh_deps_walk(hostfd, p->programs[i], &o, copy_dep, &v, e) < 0 || v.failed)
            result = -1;
    if (result == 0 && (install_device(&v, "/dev/null", 1, 3) < 0 || install_device(&v, "/dev/zero", 1, 5) < 0 ||
                        install_device(&v, "/dev/urandom", 1, 9) < 0 || install_identity(&v) < 0))
        result = -1;
    for (int i = 0; i < nextra; i++)
        free(extra[i]);
    close(hostfd);
    if (v.rootfd >= 0)
        close(v.rootfd);
    return result;
}
