#include "provision.h"

#include "atomic.h"
#include "deps.h"
#include "exitcodes.h"
#include "fd.h"
#include "path.h"
#include "paths.h"
#include "rootfd.h"
#include "valid.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_LDCONF_DIRS 64
#define MAX_COPY ((size_t)1 << 30)
#define MAX_ACCOUNTS ((size_t)1 << 20) /* a jail's /etc/passwd or /etc/group we read */

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

int vh_provision_ldconf_dirs(const char *conf, char **dirs, int max)
{
    return ldconf_read(conf, dirs, 0, max, 0);
}

/* ---- writing inside the jail -------------------------------------- */

/* The jail may hold a hostile root service that races everything we do
 * in it (THREATS K9). So nothing here names a file in the jail by a path
 * that the kernel resolves again later: every directory is opened one
 * component at a time relative to its verified parent's descriptor
 * (O_NOFOLLOW | O_DIRECTORY: no symlink followed, no "..", no mount
 * crossed), every file is made under a fresh name with O_EXCL and
 * changed through its own descriptor (fchown/fchmod), and only then
 * renamed over the target relative to the same directory descriptor. The
 * worst a racer can do is change what ends up inside its own jail, which
 * it could do anyway; nothing outside the jail is opened, changed or
 * written through. (A per-component walk rather than openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV: missing
 * components are made with mkdirat under their parent's descriptor
 * anyway, and the walk is the same on every kernel.) */

struct prov {
    vh_provision *p;
    int rootfd;
    vh_err *e;
    int failed;
    unsigned tmpseq;
    dev_t dev;    /* the jail root's file system */
    uint64_t mnt; /* and its mount (statx), when the kernel tells */
    int have_mnt;
    int nocreate, missing; /* open_dir for reading: a missing directory sets missing */
    char *passwd, *group;  /* the merged account files, written last */
    size_t passwdlen, grouplen;
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

/* fd's file system and mount: 0 or -1 with errno. */
static int mount_of(int fd, dev_t *dev, uint64_t *mnt, int *have_mnt)
{
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
        return -1;
    *dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    *have_mnt = (sx.stx_mask & STATX_MNT_ID) != 0; /* Linux >= 5.8 */
    *mnt = *have_mnt ? sx.stx_mnt_id : 0;
    return 0;
}

/* Nothing is written through a mount point inside the jail: it may lead
 * to a host directory (a bind mount) or to another jail. The mount id
 * tells a bind mount of the jail's own file system apart too; kernels
 * without it (before 5.8) compare the device only. */
static int same_mount(struct prov *v, int fd, const char *in)
{
    dev_t dev;
    uint64_t mnt;
    int have;
    if (mount_of(fd, &dev, &mnt, &have) < 0)
        return vh_fail(v->e, VH_EX_IOERR, "cannot stat %s%s: %s", v->p->root, in, strerror(errno));
    if (dev == v->dev && (!have || !v->have_mnt || mnt == v->mnt))
        return 0;
    return vh_fail(v->e, VH_EX_OSFILE,
                   "%s%s is a mount point inside the jail: provision never writes through a mount (it can lead "
                   "outside the jail) - umount %s%s, then run provision again",
                   v->p->root, in, v->p->root, in);
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
    return same_mount(v, fd, in);
}

/* Why name in pfd could not be opened as a directory, for the message. */
static int not_a_dir(struct prov *v, int pfd, const char *name, const char *in, int err)
{
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return vh_fail(v->e, VH_EX_OSFILE,
                       "%s%s is a symbolic link: provision follows no link inside a jail (the jail's service could "
                       "point it anywhere) - replace it with a real directory (rm %s%s), then run provision again",
                       v->p->root, in, v->p->root, in);
    if (err == ENOTDIR || err == ELOOP)
        return vh_fail(v->e, VH_EX_OSFILE,
                       "%s%s is not a directory - remove it (provision puts a directory there), then run provision "
                       "again",
                       v->p->root, in);
    return vh_fail(v->e, VH_EX_CANTCREAT, "cannot open %s%s: %s", v->p->root, in, strerror(err));
}

/* One step down: name below pfd (already trusted), created root-owned
 * 0755 when missing (the umask is 0 during a run). Returns an fd or -1. */
static int step_down(struct prov *v, int pfd, const char *name, const char *in)
{
    int d = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d >= 0)
        return d;
    if (errno != ENOENT)
        return not_a_dir(v, pfd, name, in, errno);
    if (v->nocreate) {
        v->missing = 1;
        return -1;
    }
    int made = mkdirat(pfd, name, 0755) == 0;
    if (!made && errno != EEXIST)
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot create directory %s%s: %s", v->p->root, in, strerror(errno));
    d = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0)
        return not_a_dir(v, pfd, name, in, errno);
    if (same_mount(v, d, in) < 0) { /* nothing changed through a mount, not even an owner */
        close(d);
        return -1;
    }
    struct stat st;
    /* Only the group can be wrong (a set-gid parent): fixed through d. */
    if (made && fstat(d, &st) == 0 && (st.st_uid != 0 || st.st_gid != 0) && fchown(d, 0, 0) < 0) {
        int err = errno;
        close(d);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot set the owner of %s%s: %s", v->p->root, in, strerror(err));
    }
    if (made)
        note(v, "created", in);
    return d;
}

/* Open directory dir (absolute, inside the jail) from the jail root, one
 * component at a time, each checked (trusted_dir) before anything is
 * opened or made in it. Returns an fd or -1 with v->e. */
static int open_dir(struct prov *v, const char *dir)
{
    char in[PATH_MAX] = "";
    size_t inlen = 0;
    int fd = openat(v->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot open %s: %s", v->p->root, strerror(errno));
    for (const char *p = dir;;) {
        if (trusted_dir(v, fd, in) < 0)
            break;
        p += strspn(p, "/");
        if (!*p)
            return fd;
        size_t n = strcspn(p, "/");
        if (n > NAME_MAX || inlen + 1 + n >= sizeof in || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.')) {
            vh_fail(v->e, VH_EX_SOFTWARE, "bad jail path %s", dir);
            break;
        }
        char name[NAME_MAX + 1];
        memcpy(name, p, n);
        name[n] = '\0';
        in[inlen++] = '/';
        memcpy(in + inlen, p, n + 1);
        inlen += n;
        in[inlen] = '\0';
        p += n;
        int next = step_down(v, fd, name, in);
        close(fd);
        fd = next;
        if (fd < 0)
            return -1;
    }
    close(fd);
    return -1;
}

/* Split in (absolute, inside the jail) into its directory and name and
 * open the directory (created when missing, and trusted). */
static int open_parent(struct prov *v, const char *in, char *name, size_t n)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", in);
    char *slash = strrchr(dir, '/');
    if (!slash || !slash[1] || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0 ||
        (size_t)snprintf(name, n, "%s", slash + 1) >= n)
        return vh_fail(v->e, VH_EX_SOFTWARE, "bad jail path %s", in);
    slash[1] = '\0';
    return open_dir(v, dir);
}

static int tmpname(struct prov *v, char *out, size_t n)
{
    return snprintf(out, n, ".vh-provision.%ld.%u", (long)getpid(), v->tmpseq++);
}

/* Is name in dfd already a regular file root:root with mode and these
 * bytes? Looked at before it is opened, so a FIFO or device the service
 * put there is replaced, not opened (one swapped in between the two
 * calls is opened non-blocking, found to be another file and closed). */
static int same_file(int dfd, const char *name, const unsigned char *data, size_t len, mode_t mode)
{
    struct stat st, fst;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return 0;
    int old = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (old < 0)
        return 0;
    unsigned char *cur = NULL;
    size_t curlen = 0;
    int same = fstat(old, &fst) == 0 && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev && S_ISREG(fst.st_mode) &&
               fst.st_uid == 0 && fst.st_gid == 0 && (fst.st_mode & 07777) == mode && (size_t)fst.st_size == len &&
               vh_rootfd_read_all(old, MAX_COPY, &cur, &curlen) == 0 && curlen == len && memcmp(cur, data, len) == 0;
    free(cur);
    close(old);
    return same;
}

/* Install data as regular file in (inside the jail), root:root, mode. */
static int install_data(struct prov *v, const char *in, const unsigned char *data, size_t len, mode_t mode)
{
    char name[NAME_MAX + 1];
    int dfd = open_parent(v, in, name, sizeof name);
    if (dfd < 0)
        return -1;
    if (same_file(dfd, name, data, len, mode)) {
        note(v, "unchanged", in);
        close(dfd);
        return 0;
    }
    struct stat st;
    int existed = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    int result = -1;
    char tmp[64];
    vh_atomic a;
    vh_atomic_init(&a, dfd);
    for (int tries = 0; tries < 100; tries++) {
        tmpname(v, tmp, sizeof tmp);
        if (vh_atomic_open(&a, tmp, O_WRONLY) == 0 || errno != EEXIST)
            break;
    }
    if (a.fd < 0) {
        vh_fail(v->e, VH_EX_CANTCREAT, "cannot create a file next to %s%s: %s", v->p->root, in, strerror(errno));
        goto out;
    }
    if (vh_fd_write_full(a.fd, data, len) < 0) {
        vh_fail(v->e, VH_EX_IOERR, "writing %s%s: %s", v->p->root, in, strerror(errno));
        goto out;
    }
    /* Through the file we created: never by name (K9). */
    if (fchown(a.fd, 0, 0) < 0 || fchmod(a.fd, mode) < 0) {
        vh_fail(v->e, VH_EX_IOERR, "finishing %s%s: %s", v->p->root, in, strerror(errno));
        goto out;
    }
    /* Whatever is at tmp by now moves within this jail directory only. */
    if (vh_atomic_commit(&a, name, 0) < 0) {
        if (a.step != VH_ATOMIC_RENAME)
            vh_fail(v->e, VH_EX_IOERR, "finishing %s%s: %s", v->p->root, in, strerror(errno));
        else
            vh_fail(v->e, VH_EX_CANTCREAT, "cannot put %s%s in place: %s%s", v->p->root, in, strerror(errno),
                    errno == EISDIR  ? " - a directory has that name; remove it"
                    : errno == EBUSY ? " - it is a mount point; umount it"
                                     : "");
        goto out;
    }
    note(v, existed ? "updated" : "created", in);
    result = 0;
out:
    vh_atomic_abort(&a);
    close(dfd);
    return result;
}

/* The node at tmp in dfd, seen through a descriptor of its own (O_PATH:
 * a device is never opened): the one we made? Made root:root when only
 * its group differs (a set-gid directory). 0 or -1 with v->e. */
static int check_node(struct prov *v, int dfd, const char *tmp, const char *in, dev_t want)
{
    int nfd = openat(dfd, tmp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    int ok = nfd >= 0 && fstat(nfd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == want && st.st_nlink == 1 &&
             (st.st_mode & 07777) == 0666 && st.st_uid == 0;
    if (ok && same_mount(v, nfd, in) < 0) {
        close(nfd);
        return -1;
    }
    if (ok && st.st_gid != 0 && fchownat(nfd, "", 0, 0, AT_EMPTY_PATH) < 0)
        ok = 0;
    if (nfd >= 0)
        close(nfd);
    if (!ok)
        return vh_fail(v->e, VH_EX_CANTCREAT,
                       "device %s%s changed while provision made it (something in the jail races provision) - stop "
                       "the jail's services, then run provision again",
                       v->p->root, in);
    return 0;
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
    vh_atomic a;
    vh_atomic_init(&a, dfd);
    int r = -1;
    /* Made with its final mode (the umask is 0 during a run): no chmod
     * by name, which a symlink put at tmp would have sent to a host
     * file - the old way (K9). */
    for (int tries = 0; r < 0 && tries < 100; tries++) {
        tmpname(v, a.tmp, sizeof a.tmp);
        r = mknodat(dfd, a.tmp, S_IFCHR | 0666, want);
        if (r < 0 && errno != EEXIST)
            break;
    }
    if (r < 0) {
        int err = errno;
        close(dfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot create device %s%s: %s", v->p->root, in, strerror(err));
    }
    /* a node, not a file: a.fd stays -1, vh_atomic_commit only renames */
    int bad = check_node(v, dfd, a.tmp, in, want) < 0;
    if (!bad && vh_atomic_commit(&a, name, 0) < 0)
        bad = vh_fail(v->e, VH_EX_CANTCREAT, "cannot put device %s%s in place: %s%s", v->p->root, in, strerror(errno),
                      errno == EBUSY ? " - it is a mount point; umount it" : "");
    vh_atomic_abort(&a);
    close(dfd);
    if (bad)
        return -1;
    note(v, exists ? "updated" : "created", in);
    return 0;
}

/* ---- the programs ------------------------------------------------- */

static int host_problem(struct prov *v, const vh_dep *d)
{
    if (!d->problem && d->path)
        return 0;
    vh_fail(v->e, VH_EX_NOINPUT, "on the host, %s %s%s%s %s - install it on the host first", vh_deps_kind_name(d->kind),
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

/* path as the kernel resolves it inside the jail: every directory
 * provision writes through is a real one (a symlink is refused), so "."
 * and ".." (a path found through $ORIGIN/../lib) are resolved by name;
 * ".." stops at the jail root. Returns 0, or -1 when out is too small. */
static int jail_path(const char *path, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = path + strspn(path, "/"); *p; p += strspn(p, "/")) {
        size_t c = strcspn(p, "/");
        if (c == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            len -= len > 0;
            out[len] = '\0';
        } else if (c != 1 || p[0] != '.') {
            if (len + 1 + c >= n)
                return -1;
            out[len++] = '/';
            memcpy(out + len, p, c);
            len += c;
            out[len] = '\0';
        }
        p += c;
    }
    return 0;
}

static int copy_dep(void *ctx, const vh_dep *d)
{
    struct prov *v = ctx;
    if (host_problem(v, d))
        return 1;
    char in[PATH_MAX];
    char found[PATH_MAX + 16];
    if (d->extra)
        snprintf(found, sizeof found, "/usr/lib/%s", d->name); /* see provision.h */
    else
        snprintf(found, sizeof found, "%s", d->path);
    if (jail_path(found, in, sizeof in) < 0 || !in[0]) {
        vh_fail(v->e, VH_EX_SOFTWARE, "cannot place %s in the jail: the path is too long or names its root", found);
        v->failed = 1;
        return 1;
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    if (vh_rootfd_read_all(d->fd, MAX_COPY, &buf, &len) < 0) {
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

/* ---- the jail's accounts: merged, never rewritten ----------------- */

/* The jail's /etc/passwd and /etc/group may hold the users of the
 * jail's other services: provision adds its entries to them and drops
 * none (issue 14). The files are the tenant's to write (a root service
 * in the jail can), so they are read like anything else in the jail:
 * through the trusted /etc descriptor, never through a symlink, never a
 * FIFO or device, at most MAX_ACCOUNTS bytes, and parsed strictly: a line
 * provision does not understand is an error naming it, never dropped.
 * Both files are read and merged before anything is written. */

struct ent {
    const char *line; /* in the file read, or NULL: added by this run */
    size_t linelen;
    int lineno;
    const char *name; /* not terminated: namelen */
    size_t namelen;
    uint32_t id, gid; /* gid: passwd only */
};

struct acct {
    const char *in; /* "/etc/passwd" */
    int passwd;     /* 7 fields (name:pw:uid:gid:gecos:dir:shell) or 4 (name:pw:gid:members) */
    struct ent *ents;
    int nents, cap;
    char *src; /* the file as read: ents point into it */
    char *out; /* the merged file */
    size_t outlen, outcap;
};

static int acct_put(struct acct *a, const char *s, size_t n)
{
    if (a->outlen + n + 1 > a->outcap) {
        size_t cap = (a->outlen + n + 1) * 2;
        char *o = realloc(a->out, cap);
        if (!o)
            return -1;
        a->out = o;
        a->outcap = cap;
    }
    memcpy(a->out + a->outlen, s, n);
    a->outlen += n;
    a->out[a->outlen] = '\0';
    return 0;
}

static int acct_add(struct acct *a, const struct ent *x)
{
    if (a->nents == a->cap) {
        int cap = a->cap ? 2 * a->cap : 64;
        struct ent *n = realloc(a->ents, (size_t)cap * sizeof *n);
        if (!n)
            return -1;
        a->ents = n;
        a->cap = cap;
    }
    a->ents[a->nents++] = *x;
    return 0;
}

/* A decimal id as in passwd(5): digits only, below 2^32 - 1. */
static int parse_id(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    if (x >= UINT32_MAX)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

/* One line (no newline) of a passwd or group file into x: NULL, or why
 * it is malformed. Empty lines and # comments are kept as they are. */
static const char *parse_line(const struct acct *a, const char *s, size_t n, struct ent *x)
{
    const char *f[8];
    size_t fl[8];
    int nf = 0, want = a->passwd ? 7 : 4;
    if (memchr(s, '\0', n))
        return "a NUL byte";
    for (size_t i = 0, start = 0; i <= n; i++)
        if (i == n || s[i] == ':') {
            if (nf == want)
                return a->passwd ? "more than 7 fields" : "more than 4 fields";
            f[nf] = s + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    if (nf != want)
        return a->passwd ? "not 7 fields name:password:uid:gid:gecos:home:shell"
                         : "not 4 fields name:password:gid:members";
    if (fl[0] == 0 || f[0][0] == '+' || f[0][0] == '-')
        return "no name (or a NIS +/- entry)";
    for (size_t i = 0; i < fl[0]; i++)
        if ((unsigned char)f[0][i] <= ' ' || (unsigned char)f[0][i] >= 0x7f)
            return "a name with a blank or a byte outside printable ASCII";
    if (parse_id(f[2], fl[2], &x->id) < 0 || (a->passwd && parse_id(f[3], fl[3], &x->gid) < 0))
        return a->passwd ? "a uid or gid that is not a number below 4294967295"
                         : "a gid that is not a number below 4294967295";
    x->name = f[0];
    x->namelen = fl[0];
    return NULL;
}

/* Read in (inside the jail) into *buf (NULL and 0 when it does not
 * exist), refusing a symlink, anything but a regular file and more than
 * MAX_ACCOUNTS bytes. 0 or -1 with v->e. */
static int read_jail_file(struct prov *v, const char *in, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    char name[NAME_MAX + 1];
    v->nocreate = 1;
    v->missing = 0;
    int dfd = open_parent(v, in, name, sizeof name);
    v->nocreate = 0;
    if (dfd < 0)
        return v->missing ? 0 : -1;
    struct stat st, fst;
    int result = -1, fd = -1;
    const char *root = v->p->root;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            result = 0;
        else
            vh_fail(v->e, VH_EX_IOERR, "cannot stat %s%s: %s", root, in, strerror(errno));
        goto out;
    }
    if (S_ISLNK(st.st_mode)) {
        vh_fail(v->e, VH_EX_OSFILE,
                "%s%s is a symbolic link: provision reads no link inside a jail (the jail's service could point it "
                "anywhere) - replace it with a regular file (rm %s%s; provision writes a new one), then run provision "
                "again",
                root, in, root, in);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        vh_fail(v->e, VH_EX_OSFILE,
                "%s%s is not a regular file (a FIFO, device, socket or directory): provision does not read it - "
                "remove it (rm -r %s%s), then run provision again",
                root, in, root, in);
        goto out;
    }
    /* O_NONBLOCK: a FIFO swapped in since fstatat does not block us. */
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &fst) < 0 || fst.st_ino != st.st_ino || fst.st_dev != st.st_dev) {
        vh_fail(v->e, VH_EX_OSFILE,
                "%s%s changed while provision read it (something in the jail races provision) - stop the jail's "
                "services, then run provision again",
                root, in);
        goto out;
    }
    /* A file bound on it may be the host's: refused as a mount point. */
    if (same_mount(v, fd, in) < 0)
        goto out;
    /* A hard link could be a host file (a racer holding a descriptor of
     * one can link it in, THREATS K9): its lines must not be copied into
     * the jail, so it is not read at all. */
    if (fst.st_nlink != 1) {
        vh_fail(v->e, VH_EX_OSFILE,
                "%s%s has %ju hard links: provision reads no file that may also be outside the jail - remove it "
                "(rm %s%s; provision writes a new one), then run provision again",
                root, in, (uintmax_t)fst.st_nlink, root, in);
        goto out;
    }
    if ((uintmax_t)fst.st_size > MAX_ACCOUNTS) {
        vh_fail(v->e, VH_EX_OSFILE,
                "%s%s is %jd bytes, more than provision reads (%zu) - trim it to the jail's real accounts, then run "
                "provision again",
                root, in, (intmax_t)fst.st_size, MAX_ACCOUNTS);
        goto out;
    }
    if (vh_rootfd_read_all(fd, MAX_ACCOUNTS, buf, len) < 0) {
        if (errno == EFBIG)
            vh_fail(v->e, VH_EX_OSFILE,
                    "%s%s grew past what provision reads (%zu bytes) - trim it, then run provision again", root, in,
                    MAX_ACCOUNTS);
        else
            vh_fail(v->e, VH_EX_IOERR, "cannot read %s%s: %s", root, in, strerror(errno));
        goto out;
    }
    result = 0;
out:
    if (fd >= 0)
        close(fd);
    close(dfd);
    return result;
}

/* One entry of a for messages: its line in the jail, or the host's. */
static void ent_text(const struct acct *a, const struct ent *x, const char *by, char *out, size_t n)
{
    char raw[256], pr[256];
    if (x->line) {
        snprintf(raw, sizeof raw, "%.*s", (int)(x->linelen > 120 ? 120 : x->linelen), x->line);
        vh_printable(raw, pr, sizeof pr);
        snprintf(out, n, "line %d of the jail's %s '%s'", x->lineno, a->in, pr);
    } else if (a->passwd) {
        snprintf(out, n, "%s's entry '%.*s' (uid %u, gid %u)", by, (int)x->namelen, x->name, (unsigned)x->id,
                 (unsigned)x->gid);
    } else {
        snprintf(out, n, "%s's group '%.*s' (gid %u)", by, (int)x->namelen, x->name, (unsigned)x->id);
    }
}

/* Merge want (an entry this run needs; by: whose) into a: present with
 * the same ids, or added at the end. The same name with other ids, or
 * the same id under another name, is a conflict: error naming both (the
 * service's id would show under the other name in the jail, or the
 * name would stand for two ids). 0 or -1 with v->e. */
static int acct_merge(struct prov *v, struct acct *a, struct ent *want, const char *by)
{
    for (int i = 0; i < a->nents; i++) {
        const struct ent *x = &a->ents[i];
        int same_name = x->namelen == want->namelen && memcmp(x->name, want->name, x->namelen) == 0;
        int same_ids = x->id == want->id && (!a->passwd || x->gid == want->gid);
        if (same_name && same_ids)
            return 0;
        if (same_name || x->id == want->id) {
            char t1[400], t2[400];
            ent_text(a, x, "an earlier --user", t1, sizeof t1);
            ent_text(a, want, by, t2, sizeof t2);
            return vh_fail(v->e, VH_EX_DATAERR,
                           "%s%s: %s conflicts with %s (%s) - provision changes no account of the jail and wrote "
                           "nothing: fix that line in the jail or choose another user, then run provision again",
                           v->p->root, a->in, t1, t2,
                           same_name ? (a->passwd ? "same name, another uid or gid" : "same name, another gid")
                                     : (a->passwd ? "same uid, another name" : "same gid, another name"));
        }
    }
    char line[2 * VH_NAME_MAX + 64];
    int n = a->passwd ? snprintf(line, sizeof line, "%.*s:x:%u:%u:%s:/:/nonexistent\n", (int)want->namelen, want->name,
                                 (unsigned)want->id, (unsigned)want->gid, want->id == 0 ? "root" : "")
                      : snprintf(line, sizeof line, "%.*s:x:%u:\n", (int)want->namelen, want->name, (unsigned)want->id);
    if ((a->outlen && a->out[a->outlen - 1] != '\n' && acct_put(a, "\n", 1) < 0) || acct_put(a, line, (size_t)n) < 0 ||
        acct_add(a, want) < 0)
        return vh_fail(v->e, VH_EX_OSERR, "out of memory");
    return 0;
}

/* Read and parse the jail's file a->in into a (a->out starts as the
 * file's bytes). 0 or -1 with v->e. */
static int acct_load(struct prov *v, struct acct *a)
{
    unsigned char *buf;
    size_t len;
    if (read_jail_file(v, a->in, &buf, &len) < 0)
        return -1;
    a->src = (char *)buf;
    if (acct_put(a, a->src ? a->src : "", len) < 0)
        return vh_fail(v->e, VH_EX_OSERR, "out of memory");
    int lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *s = a->src + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        lineno++;
        if (n == 0 || s[0] == '#')
            continue;
        struct ent x = {s, n, lineno, NULL, 0, 0, 0};
        const char *why = parse_line(a, s, n, &x);
        if (why) {
            char raw[128], pr[128];
            snprintf(raw, sizeof raw, "%.*s", (int)(n > 80 ? 80 : n), s);
            vh_printable(raw, pr, sizeof pr);
            return vh_fail(v->e, VH_EX_DATAERR,
                           "%s%s line %d is malformed (%s): '%s' - provision drops no line it does not understand: "
                           "fix or remove it, then run provision again",
                           v->p->root, a->in, lineno, why, pr);
        }
        if (acct_add(a, &x) < 0)
            return vh_fail(v->e, VH_EX_OSERR, "out of memory");
    }
    return 0;
}

/* Both account files merged with root and every run-as user and its
 * primary group, into v->passwd and v->group; nothing written yet. The
 * users' supplementary groups are not listed: virtuald sets them by
 * number from the row (setgroups), the jail's /etc/group is not asked. */
static int merge_identity(struct prov *v)
{
    struct acct pw = {"/etc/passwd", 1, NULL, 0, 0, NULL, NULL, 0, 0};
    struct acct gr = {"/etc/group", 0, NULL, 0, 0, NULL, NULL, 0, 0};
    int result = -1;
    if (acct_load(v, &pw) < 0 || acct_load(v, &gr) < 0)
        goto out;
    struct ent root = {NULL, 0, 0, "root", 4, 0, 0};
    if (acct_merge(v, &pw, &root, "root") < 0 || acct_merge(v, &gr, &root, "root") < 0)
        goto out;
    for (int i = 0; i < v->p->nusers; i++) {
        const vh_row *u = &v->p->users[i];
        if (!u->has_user)
            continue;
        char by[VH_NAME_MAX + 16];
        snprintf(by, sizeof by, "--user %s", u->user);
        struct ent pe = {NULL, 0, 0, u->user, strlen(u->user), u->uid, u->gid};
        struct ent ge = {NULL, 0, 0, u->group, strlen(u->group), u->gid, 0};
        if (acct_merge(v, &pw, &pe, by) < 0 || acct_merge(v, &gr, &ge, by) < 0)
            goto out;
    }
    v->passwd = pw.out;
    v->passwdlen = pw.outlen;
    v->group = gr.out;
    v->grouplen = gr.outlen;
    pw.out = gr.out = NULL;
    result = 0;
out:
    free(pw.ents);
    free(gr.ents);
    free(pw.src);
    free(gr.src);
    free(pw.out);
    free(gr.out);
    return result;
}

static int install_identity(struct prov *v)
{
    if (install_data(v, "/etc/passwd", (unsigned char *)v->passwd, v->passwdlen, 0644) < 0 ||
        install_data(v, "/etc/group", (unsigned char *)v->group, v->grouplen, 0644) < 0)
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
    if (vh_valid_root(p->root, e) < 0)
        return -1;
    if (strcmp(p->root, "/") == 0)
        return vh_fail(e, VH_EX_USAGE, "refusing to provision / - give the jail directory");
    for (int i = 0; i < p->nprograms; i++)
        if (p->programs[i][0] != '/')
            return vh_fail(e, VH_EX_USAGE, "--program %s: give the program's absolute path on the host (command -v %s)",
                           p->programs[i], p->programs[i]);
    struct prov v = {p, -1, e, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, 0};
    int hostfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (hostfd < 0)
        return vh_fail(e, VH_EX_OSERR, "cannot open /: %s", strerror(errno));
    char *extra[MAX_LDCONF_DIRS];
    int nextra = vh_provision_ldconf_dirs(VH_LD_SO_CONF, extra, MAX_LDCONF_DIRS);
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
    if (result == 0 && mount_of(v.rootfd, &v.dev, &v.mnt, &v.have_mnt) < 0)
        result = vh_fail(e, VH_EX_IOERR, "cannot stat %s: %s", p->root, strerror(errno));
    /* The jail's accounts, read and merged before anything is written:
     * a conflict or a line we do not understand changes nothing. */
    if (result == 0 && merge_identity(&v) < 0)
        result = -1;
    if (result == 0 && created)
        note(&v, "created", "");
    /* Every file, device and directory is made with its final mode (a
     * chmod by name is what K9 exploited); restored below. */
    mode_t mask = umask(0);
    for (int i = 0; i < p->nprograms && result == 0; i++)
        if (vh_deps_walk(hostfd, p->programs[i], &o, copy_dep, &v, e) < 0 || v.failed)
            result = -1;
    if (result == 0 && (install_device(&v, "/dev/null", 1, 3) < 0 || install_device(&v, "/dev/zero", 1, 5) < 0 ||
                        install_device(&v, "/dev/urandom", 1, 9) < 0 || install_identity(&v) < 0))
        result = -1;
    umask(mask);
    free(v.passwd);
    free(v.group);
    for (int i = 0; i < nextra; i++)
        free(extra[i]);
    close(hostfd);
    if (v.rootfd >= 0)
        close(v.rootfd);
    return result;
}
