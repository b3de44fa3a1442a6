#include "provision.h"

#include "atomic.h"
#include "deps.h"
#include "elfread.h"
#include "exitcodes.h"
#include "fd.h"
#include "path.h"
#include "paths.h"
#include "rootfd.h"
#include "valid.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LDCONF_DIRS 64
#define MAX_COPY ((size_t)1 << 30)
/* Host files provision reads (its own, not virtuald's: src/lib/paths.h
 * holds what the trusted path needs). */
#define VH_DPKG_QUERY "/usr/bin/dpkg-query"
#define VH_NSSWITCH_CONF "/etc/nsswitch.conf"
#define VH_C_UTF8_LOCALE "/usr/lib/locale/C.utf8"
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
    /* what the host-side walks found (plan below) */
    char libcdir[PATH_MAX];  /* the directory of libc.so.6, "" when no program links it */
    char gconvdir[PATH_MAX]; /* where that libc looks for gconv modules */
    char pamdir[PATH_MAX];   /* where libpam.so.0 looks for modules, "" when none links it */
    int iconv;               /* an object other than libc imports iconv_open */
    int item_pam;            /* the current item links libpam */
    char **done;             /* jail paths written in this run (each once) */
    int ndone, capdone;
    char source[PATH_MAX + 32]; /* the request plan_add gives its items (the manifest's source) */
    const char *item_source;    /* the source of the item being copied */
};

static void note(struct prov *v, const char *what, const char *in)
{
    char hp[2 * PATH_MAX];
    snprintf(hp, sizeof hp, "%s%s", v->p->root, in);
    if (v->p->note)
        v->p->note(v->p->ctx, what, hp);
    if (strcmp(what, "unchanged") == 0 || strcmp(what, "kept") == 0)
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

/* Install data as regular file in (inside the jail), root:root, mode.
 * noreplace: only when nothing is there (a config skeleton: the
 * tenant's file, or whatever the jail has at that name, is kept, also
 * one made while we write: renameat2 RENAME_NOREPLACE). */
static int install_data_ex(struct prov *v, const char *in, const unsigned char *data, size_t len, mode_t mode,
                           int noreplace)
{
    char name[NAME_MAX + 1];
    int dfd = open_parent(v, in, name, sizeof name);
    if (dfd < 0)
        return -1;
    struct stat st;
    if (noreplace && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        note(v, "kept", in);
        close(dfd);
        return 0;
    }
    if (same_file(dfd, name, data, len, mode)) {
        note(v, "unchanged", in);
        close(dfd);
        return 0;
    }
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
    if (noreplace) {
        if (fdatasync(a.fd) < 0) {
            vh_fail(v->e, VH_EX_IOERR, "writing %s%s: %s", v->p->root, in, strerror(errno));
            goto out;
        }
        if (renameat2(dfd, a.tmp, dfd, name, RENAME_NOREPLACE) < 0) {
            if (errno == EEXIST) { /* made meanwhile: the jail's, kept */
                note(v, "kept", in);
                result = 0;
            } else {
                vh_fail(v->e, VH_EX_CANTCREAT, "cannot put %s%s in place: %s", v->p->root, in, strerror(errno));
            }
            goto out;
        }
        a.tmp[0] = '\0';
        note(v, "created", in);
        result = 0;
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

static int install_data(struct prov *v, const char *in, const unsigned char *data, size_t len, mode_t mode)
{
    return install_data_ex(v, in, data, len, mode, 0);
}

/* A symlink at in (inside the jail) to target, a plain name: it stays in
 * its directory (a package's git-add -> git), so it cannot lead out of
 * the jail. Made under a temporary name and renamed over in. */
static int install_link(struct prov *v, const char *in, const char *target, int noreplace)
{
    if (!*target || strchr(target, '/') || strcmp(target, ".") == 0 || strcmp(target, "..") == 0)
        return vh_fail(v->e, VH_EX_SOFTWARE, "bad symlink target %s for %s", target, in);
    char name[NAME_MAX + 1];
    int dfd = open_parent(v, in, name, sizeof name);
    if (dfd < 0)
        return -1;
    struct stat st;
    if (noreplace && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        note(v, "kept", in);
        close(dfd);
        return 0;
    }
    char cur[NAME_MAX + 2];
    ssize_t n = readlinkat(dfd, name, cur, sizeof cur - 1);
    if (n >= 0) {
        cur[n] = '\0';
        if (strcmp(cur, target) == 0) {
            note(v, "unchanged", in);
            close(dfd);
            return 0;
        }
    }
    int existed = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (existed && S_ISDIR(st.st_mode)) {
        close(dfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "%s%s is a directory where provision puts a symlink to %s - remove it",
                       v->p->root, in, target);
    }
    char tmp[64];
    int r = -1;
    for (int tries = 0; r < 0 && tries < 100; tries++) {
        tmpname(v, tmp, sizeof tmp);
        r = symlinkat(target, dfd, tmp);
        if (r < 0 && errno != EEXIST)
            break;
    }
    if (r < 0) {
        int err = errno;
        close(dfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot create symlink %s%s: %s", v->p->root, in, strerror(err));
    }
    /* its owner: root (we are); a symlink's mode is not used */
    if (fchownat(dfd, tmp, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
        int err = errno;
        unlinkat(dfd, tmp, 0);
        close(dfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot put symlink %s%s in place: %s", v->p->root, in, strerror(err));
    }
    close(dfd);
    note(v, existed ? "updated" : "created", in);
    return 0;
}

/* Directory in, made when missing with owner and mode (an existing one
 * is the tenant's: left as it is, but it must be a real directory). */
static int install_dir(struct prov *v, const vh_prov_dir *d)
{
    char name[NAME_MAX + 1];
    const char *in = d->path;
    if (d->mode & ~01777u)
        return vh_fail(v->e, VH_EX_USAGE, "directory %s: mode %04o has set-uid or set-gid bits - provision makes none",
                       in, d->mode);
    int dfd = open_parent(v, in, name, sizeof name);
    if (dfd < 0)
        return -1;
    int made = mkdirat(dfd, name, d->mode & 0777) == 0;
    if (!made && errno != EEXIST) {
        int err = errno;
        close(dfd);
        return vh_fail(v->e, VH_EX_CANTCREAT, "cannot create directory %s%s: %s", v->p->root, in, strerror(err));
    }
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int r = not_a_dir(v, dfd, name, in, errno);
        close(dfd);
        return r;
    }
    int result = 0;
    if (same_mount(v, fd, in) < 0)
        result = -1;
    else if (made && (fchown(fd, d->uid, d->gid) < 0 || fchmod(fd, d->mode) < 0))
        result =
            vh_fail(v->e, VH_EX_CANTCREAT, "cannot set owner and mode of %s%s: %s", v->p->root, in, strerror(errno));
    else
        note(v, made ? "created" : "unchanged", in);
    close(fd);
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

/* A --program that is a shared library (pam_unix.so): an ELF object
 * without an interpreter, of type ET_DYN. */
static int is_shared_library(int fd)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    vh_elfread o;
    vh_err pe;
    int r = fd >= 0 && vh_rootfd_read_all(fd, MAX_COPY, &buf, &len) == 0 && vh_elfread_is_elf(buf, len) &&
            vh_elfread_parse(buf, len, &o, &pe) == 0 && !o.interp && o.type == ET_DYN;
    free(buf);
    return r;
}

static int host_problem(struct prov *v, const vh_dep *d)
{
    if (!d->problem && d->path)
        return 0;
    if (d->kind == VH_DEP_PROGRAM && !d->by && d->path && is_shared_library(d->fd))
        vh_fail(v->e, VH_EX_USAGE,
                "--program %s is a shared library (an ELF object without an interpreter), not a program: give it "
                "with --file %s (its libraries follow), or give the program that loads it (with --pam SERVICE for a "
                "PAM module)",
                d->path, d->path);
    else if (!d->path)
        vh_fail(v->e, VH_EX_NOINPUT, "on the host, %s %s%s%s %s - install it on the host first",
                vh_deps_kind_name(d->kind), d->name, d->by ? " needed by " : "", d->by ? d->by : "", d->problem);
    else
        vh_fail(v->e, VH_EX_NOINPUT, "on the host, %s %s%s%s %s - fix it on the host (or name another file)",
                vh_deps_kind_name(d->kind), d->path, d->by ? " needed by " : "", d->by ? d->by : "", d->problem);
    v->failed = 1;
    return 1;
}

/* Does the object import iconv_open (its name in the file's dynamic
 * string table)? libc itself defines it and is not asked. */
static int uses_iconv(const vh_dep *d)
{
    const char *base = strrchr(d->path, '/');
    base = base ? base + 1 : d->path;
    if (strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0 || d->fd < 0)
        return 0;
    unsigned char *buf = NULL;
    size_t len = 0;
    static const char needle[] = "\0iconv_open"; /* then a NUL or '@' (a version) */
    int r = 0;
    if (vh_rootfd_read_all(d->fd, MAX_COPY, &buf, &len) == 0)
        for (const unsigned char *p = buf; p && !r;) {
            p = memmem(p, len - (size_t)(p - buf), needle, sizeof needle - 1);
            if (p) {
                size_t at = (size_t)(p - buf) + sizeof needle - 1;
                r = at < len && (buf[at] == '\0' || buf[at] == '@');
                p++;
            }
        }
    free(buf);
    return r;
}

static void dir_of(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash && slash != out)
        *slash = '\0';
}

/* The longest NUL-terminated absolute path in the object's bytes that
 * ends with suffix (without a trailing slash), into out: the directory a
 * library was built to look in (libc's gconv directory, libpam's module
 * directory). On a merged-/usr host /lib and /usr/lib are one directory,
 * in a jail they are two, so the name the library uses is the one that
 * must exist in the jail. 0, or -1 when there is none. */
static int built_in_dir(int fd, const char *suffix, char *out, size_t n)
{
    unsigned char *buf = NULL;
    size_t len = 0, best = 0, sl = strlen(suffix);
    if (fd < 0 || vh_rootfd_read_all(fd, MAX_COPY, &buf, &len) < 0)
        return -1;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && buf[j] >= ' ' && buf[j] < 0x7f)
            j++;
        if (j < len && buf[j] == '\0' && buf[i] == '/') {
            size_t l = j - i;
            if (l > sl && buf[j - 1] == '/') /* "/lib/x86_64-linux-gnu/security/" */
                l--;
            if (l > sl && l < n && memcmp(buf + i + l - sl, suffix, sl) == 0 && l > best) {
                memcpy(out, buf + i, l);
                out[l] = '\0';
                best = l;
            }
        }
        i = j + 1;
    }
    free(buf);
    return best && vh_provision_clean_path(out) ? 0 : -1;
}

/* The first pass: is everything there on the host? Nothing is written
 * unless every program can be installed whole. Also notes what the
 * programs need at run time beyond their libraries: libc (NSS, locale,
 * gconv), libpam (PAM modules), iconv_open (gconv). */
static int probe_dep(void *ctx, const vh_dep *d)
{
    struct prov *v = ctx;
    if (host_problem(v, d))
        return 1;
    const char *base = strrchr(d->path, '/');
    base = base ? base + 1 : d->path;
    if (d->kind == VH_DEP_LIBRARY && strcmp(d->name, "libc.so.6") == 0 && !v->libcdir[0]) {
        dir_of(d->path, v->libcdir, sizeof v->libcdir);
        if (built_in_dir(d->fd, "/gconv", v->gconvdir, sizeof v->gconvdir) < 0)
            snprintf(v->gconvdir, sizeof v->gconvdir, "%s/gconv", v->libcdir);
    }
    if (d->kind == VH_DEP_LIBRARY && strcmp(d->name, "libpam.so.0") == 0) {
        v->item_pam = 1;
        if (!v->pamdir[0] && built_in_dir(d->fd, "/security", v->pamdir, sizeof v->pamdir) < 0) {
            char dir[PATH_MAX];
            dir_of(d->path, dir, sizeof dir);
            snprintf(v->pamdir, sizeof v->pamdir, "%s/security", dir);
        }
    }
    if (!v->iconv && strncmp(base, "libnss_", 7) != 0 && uses_iconv(d))
        v->iconv = 1;
    return 0;
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

/* Jail paths already written in this run: libc is needed by every walk
 * and gconv's 250 modules, but is compared and written once. */
static int done_has(const struct prov *v, const char *in)
{
    for (int i = v->ndone - 1; i >= 0; i--)
        if (strcmp(v->done[i], in) == 0)
            return 1;
    return 0;
}

static void done_add(struct prov *v, const char *in)
{
    if (v->ndone == v->capdone) {
        int cap = v->capdone ? 2 * v->capdone : 256;
        char **n = realloc(v->done, (size_t)cap * sizeof *n);
        if (!n)
            return; /* only an optimisation: the file is compared again */
        v->done = n;
        v->capdone = cap;
    }
    char *c = strdup(in);
    if (c)
        v->done[v->ndone++] = c;
}

/* The manifest (issue 14 point 4): a regular file copied from host. */
static void copied(struct prov *v, const char *in, const char *host, const char *kind, const unsigned char *data,
                   size_t len, mode_t mode)
{
    if (!v->p->copied)
        return;
    vh_prov_copied c = {in, host, kind, v->item_source ? v->item_source : "", data, len, (unsigned)(mode & 0777)};
    v->p->copied(v->p->ctx, &c);
}

static const char *copied_kind(enum vh_dep_kind k)
{
    switch (k) {
    case VH_DEP_PROGRAM: return "program";
    case VH_DEP_SCRIPT:
    case VH_DEP_INTERP: return "interpreter";
    case VH_DEP_LIBRARY: return "library";
    }
    return "file";
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
    if (done_has(v, in))
        return 0;
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
    if (r == 0)
        copied(v, in, d->path, copied_kind(d->kind), buf, len, mode);
    free(buf);
    if (r < 0) {
        v->failed = 1;
        return 1;
    }
    done_add(v, in);
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
    uint32_t id, gid;         /* gid: passwd only */
    const char *home, *shell; /* a new passwd entry's; NULL: "/" and "/nonexistent" */
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
    char line[2 * VH_NAME_MAX + 2 * PATH_MAX + 64];
    int n = a->passwd ? snprintf(line, sizeof line, "%.*s:x:%u:%u:%s:%s:%s\n", (int)want->namelen, want->name,
                                 (unsigned)want->id, (unsigned)want->gid, want->id == 0 ? "root" : "",
                                 want->home ? want->home : "/", want->shell ? want->shell : "/nonexistent")
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
        struct ent x = {s, n, lineno, NULL, 0, 0, 0, NULL, NULL};
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
    struct ent root = {NULL, 0, 0, "root", 4, 0, 0, NULL, NULL};
    if (acct_merge(v, &pw, &root, "root") < 0 || acct_merge(v, &gr, &root, "root") < 0)
        goto out;
    for (int i = 0; i < v->p->nusers; i++) {
        const vh_row *u = &v->p->users[i];
        if (!u->has_user)
            continue;
        char by[VH_NAME_MAX + 16];
        snprintf(by, sizeof by, "--user %s", u->user);
        struct ent pe = {NULL, 0, 0, u->user, strlen(u->user), u->uid, u->gid, NULL, NULL};
        struct ent ge = {NULL, 0, 0, u->group, strlen(u->group), u->gid, 0, NULL, NULL};
        if (acct_merge(v, &pw, &pe, by) < 0 || acct_merge(v, &gr, &ge, by) < 0)
            goto out;
    }
    const vh_prov_more *m = v->p->more;
    for (int i = 0; m && i < m->naccounts; i++) {
        const vh_prov_account *u = &m->accounts[i];
        char by[VH_NAME_MAX + 32];
        snprintf(by, sizeof by, "the profile's user %s", u->name);
        struct ent pe = {NULL, 0, 0, u->name, strlen(u->name), u->uid, u->gid, u->home, u->shell};
        struct ent ge = {NULL, 0, 0, u->group, strlen(u->group), u->gid, 0, NULL, NULL};
        if (acct_merge(v, &pw, &pe, by) < 0 || acct_merge(v, &gr, &ge, by) < 0)
            goto out;
    }
    for (int i = 0; m && i < m->ngroups; i++) {
        char by[VH_NAME_MAX + 32];
        snprintf(by, sizeof by, "the profile's group %s", m->groups[i].name);
        struct ent ge = {NULL, 0, 0, m->groups[i].name, strlen(m->groups[i].name), m->groups[i].gid, 0, NULL, NULL};
        if (acct_merge(v, &gr, &ge, by) < 0)
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

/* ---- the plan: everything to copy, found on the host first -------- */

/* What provision copies, besides what each walk finds. Host paths are
 * jail paths too. Built and checked on the host before anything is
 * written in the jail. */
enum item_kind {
    IT_PROGRAM, /* walked as a program: interpreter and libraries */
    IT_MODULE,  /* walked as a module (dlopen): libraries */
    IT_ASIS,    /* copied as it is (data, scripts, locale) */
    IT_CONFIG,  /* copied as it is when the jail has nothing there */
    IT_LINK,    /* a symlink to a plain name in the same directory */
};

struct item {
    enum item_kind kind;
    char *path;
    char *target; /* IT_LINK */
    int pam;      /* IT_PROGRAM: links libpam (after the probe) */
    char *source; /* the request that brought it (the manifest's source) */
};

struct plan {
    struct item *it;
    int n, cap;
};

static int plan_add(struct prov *v, struct plan *pl, enum item_kind kind, const char *path, const char *target)
{
    for (int i = 0; i < pl->n; i++)
        if (strcmp(pl->it[i].path, path) == 0 && (pl->it[i].kind == kind || kind != IT_PROGRAM))
            return 0;
    if (!vh_provision_clean_path(path))
        return vh_fail(v->e, VH_EX_USAGE, "%s: not a clean absolute path (no '.', '..', '//' or control characters)",
                       path);
    if (pl->n == pl->cap) {
        int cap = pl->cap ? 2 * pl->cap : 64;
        struct item *n = realloc(pl->it, (size_t)cap * sizeof *n);
        if (!n)
            return vh_fail(v->e, VH_EX_OSERR, "out of memory");
        pl->it = n;
        pl->cap = cap;
    }
    struct item *it = &pl->it[pl->n];
    it->kind = kind;
    it->pam = 0;
    it->path = strdup(path);
    it->target = target ? strdup(target) : NULL;
    it->source = strdup(v->source);
    if (!it->path || (target && !it->target) || !it->source) {
        free(it->path);
        free(it->target);
        free(it->source);
        return vh_fail(v->e, VH_EX_OSERR, "out of memory");
    }
    pl->n++;
    return 0;
}

static void plan_free(struct plan *pl)
{
    for (int i = 0; i < pl->n; i++) {
        free(pl->it[i].path);
        free(pl->it[i].target);
        free(pl->it[i].source);
    }
    free(pl->it);
}

int vh_provision_clean_path(const char *path)
{
    if (!path || path[0] != '/' || strlen(path) >= PATH_MAX)
        return 0;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return 0;
    for (const char *p = path; *p;) {
        p++; /* the slash */
        size_t n = strcspn(p, "/");
        if (n == 0 && p[0] == '/')
            return 0;
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (n == 0 && p[-1] == '/' && p - 1 != path)
            return 0; /* a trailing slash */
        p += n;
    }
    return 1;
}

const char *vh_provision_refuse_host(const char *path, mode_t mode)
{
    static const char *const secret[] = {
        "/etc/shadow", "/etc/gshadow",      "/etc/shadow-", "/etc/gshadow-",         "/etc/sudoers",
        "/etc/ssh/",   "/etc/ssl/private/", "/root/",       "/etc/security/opasswd", "/var/lib/virtuald/"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        size_t n = strlen(secret[i]);
        if (strncmp(path, secret[i], n) == 0 && (secret[i][n - 1] == '/' || path[n] == '\0'))
            return "is a host secret (password hashes, keys, sudo rules or virtuald's database): provision never "
                   "copies it into a jail";
    }
    if (!S_ISREG(mode))
        return "is not a regular file";
    if (!(mode & S_IROTH))
        return "is not readable by others on the host: a host secret is never copied into a jail";
    return NULL;
}

/* Open host file path for copying: a regular file, not a secret. An fd,
 * or -1 with v->e (what: "--file", "package rsync", ...). */
static int host_open(struct prov *v, const char *path, const char *what, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return vh_fail(v->e, VH_EX_NOINPUT, "%s: cannot open %s on the host: %s%s", what, path, strerror(err),
                       err == ENOENT ? " - install it on the host first" : "");
    }
    const char *why = fstat(fd, st) < 0 ? "cannot be read" : vh_provision_refuse_host(path, st->st_mode);
    /* Where it really is (a symlink, on the host or in another jail, may
     * lead to a secret): that name is judged too, and every directory
     * above it must be searchable by others - a file only root can reach
     * (below /root, or in a jail below a 0700 directory) is not copied
     * into a jail that tenants can read. */
    char real[PATH_MAX], dir[PATH_MAX];
    if (!why && !realpath(path, real))
        why = "cannot be resolved";
    if (!why && strcmp(real, path) != 0)
        why = vh_provision_refuse_host(real, st->st_mode);
    if (!why) {
        snprintf(dir, sizeof dir, "%s", real);
        for (char *slash = strrchr(dir, '/'); !why && slash; slash = strrchr(dir, '/')) {
            slash[slash == dir] = '\0';
            struct stat ds;
            if (stat(dir, &ds) < 0 || !(ds.st_mode & S_IXOTH))
                why = "lies below a directory other host users cannot search: a file only root can reach is "
                      "never copied into a jail";
            if (slash == dir)
                break;
        }
    }
    if (!why && (uintmax_t)st->st_size > MAX_COPY)
        why = "is larger than provision copies (1 GiB)";
    if (why) {
        close(fd);
        return vh_fail(v->e, VH_EX_NOPERM, "%s: %s (mode %04o) %s - remove it from the command or profile", what, path,
                       (unsigned)(st->st_mode & 07777), why);
    }
    return fd;
}

/* How a host file is copied: a program (ELF with an interpreter and an x
 * bit), a module (another ELF object), or as it is. -1 with v->e. */
static int classify(struct prov *v, const char *path, const char *what)
{
    struct stat st;
    int fd = host_open(v, path, what, &st);
    if (fd < 0)
        return -1;
    unsigned char *buf = NULL;
    size_t len = 0;
    int kind = IT_ASIS;
    vh_elfread o;
    vh_err pe;
    if (vh_rootfd_read_all(fd, MAX_COPY, &buf, &len) == 0 && vh_elfread_is_elf(buf, len)) {
        if (vh_elfread_parse(buf, len, &o, &pe) < 0)
            kind = vh_fail(v->e, VH_EX_DATAERR, "%s: %s on the host is a damaged ELF file (%s)", what, path, pe.msg);
        else
            kind = o.interp && (st.st_mode & 0111) ? IT_PROGRAM : IT_MODULE;
    }
    free(buf);
    close(fd);
    return kind;
}

/* ---- Debian packages ---------------------------------------------- */

static int valid_package(const char *n)
{
    size_t len = strlen(n), i = 0;
    if (len < 2 || len > 128 || !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= '0' && n[0] <= '9')))
        return 0;
    for (; i < len && n[i] != ':'; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '+' || n[i] == '.' ||
              n[i] == '-'))
            return 0;
    if (i < len) /* :ARCH */
        for (i++; i < len; i++)
            if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
                return 0;
    return 1;
}

/* A package's runtime files (see provision.h): 1 wanted, 0 not. */
static int package_path_wanted(const char *p)
{
    static const char *const want[] = {"/bin/",      "/sbin/",    "/lib/",       "/lib64/",       "/usr/bin/",
                                       "/usr/sbin/", "/usr/lib/", "/usr/lib64/", "/usr/libexec/", "/etc/"};
    static const char *const noise[] = {"/lib/systemd/",
                                        "/usr/lib/systemd/",
                                        "/usr/lib/tmpfiles.d/",
                                        "/usr/lib/sysusers.d/",
                                        "/usr/lib/locale/",
                                        "/usr/lib/debug/",
                                        "/lib/udev/",
                                        "/usr/lib/udev/",
                                        "/etc/init.d/",
                                        "/etc/init/",
                                        "/etc/systemd/",
                                        "/etc/logrotate.d/",
                                        "/etc/default/",
                                        "/etc/cron.",
                                        "/etc/rc",
                                        "/etc/X11/",
                                        "/etc/bash_completion.d/",
                                        "/usr/lib/mime/",
                                        "/lib/modules/",
                                        "/etc/apparmor.d/",
                                        "/etc/ufw/"};
    int ok = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0] && !ok; i++)
        ok = strncmp(p, want[i], strlen(want[i])) == 0;
    for (size_t i = 0; i < sizeof noise / sizeof noise[0] && ok; i++)
        ok = strncmp(p, noise[i], strlen(noise[i])) != 0;
    return ok;
}

/* dpkg-query -L name, into a malloc'd buffer. 0 or -1 with v->e. */
static int dpkg_list(struct prov *v, const char *name, char **out, size_t *outlen)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return vh_fail(v->e, VH_EX_OSERR, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    char *const argv[] = {"dpkg-query", "-L", (char *)name, NULL};
    char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
    pid_t pid;
    int err = posix_spawn(&pid, VH_DPKG_QUERY, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (err) {
        close(pfd[0]);
        return vh_fail(v->e, VH_EX_OSERR,
                       "--package %s: cannot run %s: %s (provision reads Debian's package "
                       "database with it)",
                       name, VH_DPKG_QUERY, strerror(err));
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    int big = 0;
    for (ssize_t r = 1; buf && r > 0;) {
        if (len + 1 == cap) {
            if (cap >= ((size_t)16 << 20)) {
                big = 1;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        r = read(pfd[0], buf + len, cap - 1 - len);
        if (r > 0)
            len += (size_t)r;
        else if (r < 0 && errno == EINTR)
            r = 1;
    }
    close(pfd[0]); /* a child still writing gets EPIPE */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!buf)
        return vh_fail(v->e, VH_EX_OSERR, "out of memory");
    buf[len] = '\0';
    if (big || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char first[200], pr[200];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(buf, "\n"), buf);
        vh_printable(first, pr, sizeof pr);
        free(buf);
        return vh_fail(v->e, VH_EX_NOINPUT, "--package %s: %s - install it on the host first (apt-get install %s)",
                       name, big ? "its file list is larger than 16 MiB" : pr, name);
    }
    *out = buf;
    *outlen = len;
    return 0;
}

static int plan_package(struct prov *v, struct plan *pl, const char *name)
{
    if (!valid_package(name))
        return vh_fail(v->e, VH_EX_USAGE,
                       "--package %s: not a Debian package name (lower case letters, digits, "
                       "'+', '-', '.', optionally :ARCH)",
                       name);
    char *list = NULL;
    size_t len = 0;
    if (dpkg_list(v, name, &list, &len) < 0)
        return -1;
    char what[200];
    snprintf(what, sizeof what, "package %s", name);
    int result = 0, nfiles = 0;
    for (char *line = list; result == 0 && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *p = line;
        line = nl ? nl + 1 : line + strlen(line);
        if (p[0] != '/' || strcmp(p, "/.") == 0)
            continue; /* "diverted by ..." and the like; dpkg lists the root as "/." */
        if (!vh_provision_clean_path(p)) {
            char pr[PATH_MAX];
            vh_printable(p, pr, sizeof pr);
            result = vh_fail(v->e, VH_EX_DATAERR,
                             "%s lists '%s', not a clean absolute path: refused (check the "
                             "package database: dpkg -L %s)",
                             what, pr, name);
            break;
        }
        if (!package_path_wanted(p))
            continue;
        struct stat lst, st;
        if (lstat(p, &lst) < 0)
            continue; /* a file the package ships but the admin removed */
        if (S_ISLNK(lst.st_mode)) {
            char target[NAME_MAX + 2];
            ssize_t n = readlink(p, target, sizeof target - 1);
            if (n > 0) {
                target[n] = '\0';
                if (!strchr(target, '/') && strcmp(target, ".") != 0 && strcmp(target, "..") != 0) {
                    if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) { /* a link to a directory is left out */
                        result = plan_add(v, pl, IT_LINK, p, target);
                        nfiles++;
                    }
                    continue;
                }
            }
        }
        if (stat(p, &st) < 0 || S_ISDIR(st.st_mode))
            continue;
        int kind = strncmp(p, "/etc/", 5) == 0 ? IT_CONFIG : classify(v, p, what);
        if (kind < 0) {
            result = -1;
            break;
        }
        if (kind == IT_CONFIG) { /* checked here, not only later: name the package */
            int fd = host_open(v, p, what, &st);
            if (fd < 0) {
                result = -1;
                break;
            }
            close(fd);
        }
        result = plan_add(v, pl, (enum item_kind)kind, p, NULL);
        nfiles++;
    }
    free(list);
    if (result == 0 && nfiles == 0)
        result = vh_fail(v->e, VH_EX_NOINPUT,
                         "--package %s has no runtime files (programs, libraries, /etc) to copy "
                         "- name its programs with --program instead",
                         name);
    return result;
}

/* ---- PAM, NSS, locale, gconv -------------------------------------- */

static int valid_service(const char *s)
{
    if (!*s || s[0] == '.' || strlen(s) > NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '_' || *s == '-' || *s == '+'))
            return 0;
    return 1;
}

/* PAM service name's stack on the host: /etc/pam.d/NAME (a config file
 * of the jail, written when absent), the files it includes and every
 * module it names (walked as modules). explicit: a missing stack is an
 * error (else: a program's own name, tried). */
static int plan_pam(struct prov *v, struct plan *pl, const char *name, int depth, int explicit)
{
    if (!valid_service(name))
        return vh_fail(v->e, VH_EX_USAGE, "PAM service '%s': not a plain file name of /etc/pam.d", name);
    if (depth > 8)
        return vh_fail(v->e, VH_EX_DATAERR, "PAM service %s: includes nest deeper than 8", name);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/etc/pam.d/%s", name);
    for (int i = 0; i < pl->n; i++)
        if (strcmp(pl->it[i].path, path) == 0)
            return 0; /* seen (an include loop ends here too) */
    struct stat st;
    if (stat(path, &st) < 0 && errno == ENOENT && !explicit)
        return 0;
    char what[NAME_MAX + 32];
    snprintf(what, sizeof what, "PAM service %s", name);
    int fd = host_open(v, path, what, &st);
    if (fd < 0)
        return -1;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rd = vh_rootfd_read_all(fd, (size_t)1 << 20, &buf, &len);
    close(fd);
    if (rd < 0)
        return vh_fail(v->e, VH_EX_IOERR, "cannot read %s: %s", path, strerror(errno));
    if (plan_add(v, pl, IT_CONFIG, path, NULL) < 0) {
        free(buf);
        return -1;
    }
    int result = 0;
    char *text = (char *)buf;
    for (size_t pos = 0; result == 0 && pos < len;) {
        char *line = text + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        line[n] = '\0';
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *tok[32];
        int nt = 0;
        for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t && nt < 32; t = strtok_r(NULL, " \t\r", &save))
            tok[nt++] = t;
        if (nt == 0)
            continue;
        if (strcmp(tok[0], "@include") == 0) {
            if (nt >= 2)
                result = plan_pam(v, pl, tok[1], depth + 1, 1);
            continue;
        }
        int optional = tok[0][0] == '-';
        int k = 1;
        if (k < nt && tok[k][0] == '[') /* [value=action ...]: up to the token ending with ']' */
            while (k < nt && tok[k][strlen(tok[k]) - 1] != ']')
                k++;
        k++;
        if (k >= nt)
            continue; /* a line PAM itself ignores */
        if (strcmp(tok[1], "include") == 0 || strcmp(tok[1], "substack") == 0) {
            result = plan_pam(v, pl, tok[k], depth + 1, 1);
            continue;
        }
        char mod[PATH_MAX];
        if (tok[k][0] == '/') {
            snprintf(mod, sizeof mod, "%s", tok[k]);
        } else {
            if (!v->pamdir[0]) {
                result = vh_fail(v->e, VH_EX_USAGE,
                                 "PAM service %s names module %s, but no program given links libpam "
                                 "(its directory tells where the modules are) - add the program that uses PAM",
                                 name, tok[k]);
                break;
            }
            snprintf(mod, sizeof mod, "%s/%s", v->pamdir, tok[k]);
        }
        if (!vh_provision_clean_path(mod)) {
            char pr[PATH_MAX];
            vh_printable(tok[k], pr, sizeof pr);
            result = vh_fail(v->e, VH_EX_DATAERR, "%s names module '%s', not a clean path: refused", path, pr);
        } else if (access(mod, F_OK) < 0) {
            if (!optional)
                result = vh_fail(v->e, VH_EX_NOINPUT,
                                 "PAM module %s, named by %s, is missing on the host - install "
                                 "it on the host first (or fix %s)",
                                 mod, path, path);
        } else {
            result = plan_add(v, pl, IT_MODULE, mod, NULL);
        }
    }
    free(buf);
    return result;
}

static int valid_nss(const char *s)
{
    if (!*s || strlen(s) > 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* The NSS modules the host's nsswitch.conf names for passwd, group and
 * shadow (and files, always), those the host has as libnss_NAME.so.2 in
 * libc's directory; and the lines of a jail nsswitch.conf naming them,
 * into conf. */
static int plan_nss(struct prov *v, struct plan *pl, char *conf, size_t confn)
{
    static const char *const dbs[] = {"passwd", "group", "shadow"};
    char mods[3][256];
    for (int d = 0; d < 3; d++)
        snprintf(mods[d], sizeof mods[d], "files");
    FILE *f = fopen(VH_NSSWITCH_CONF, "re");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *db = line + strspn(line, " \t");
        db[strcspn(db, " \t")] = '\0';
        for (int d = 0; d < 3; d++) {
            if (strcmp(db, dbs[d]) != 0)
                continue;
            for (char *save = NULL, *t = strtok_r(colon + 1, " \t\r\n", &save); t;
                 t = strtok_r(NULL, " \t\r\n", &save)) {
                if (!valid_nss(t) || strcmp(t, "files") == 0 || strstr(mods[d], t))
                    continue; /* [NOTFOUND=return] and the like */
                char so[PATH_MAX];
                snprintf(so, sizeof so, "%s/libnss_%s.so.2", v->libcdir, t);
                if (access(so, F_OK) < 0)
                    continue; /* the host cannot use it either */
                if (strlen(mods[d]) + strlen(t) + 2 < sizeof mods[d])
                    strcat(strcat(mods[d], " "), t);
                if (plan_add(v, pl, IT_MODULE, so, NULL) < 0) {
                    fclose(f);
                    return -1;
                }
            }
        }
    }
    if (f)
        fclose(f);
    char so[PATH_MAX];
    snprintf(so, sizeof so, "%s/libnss_files.so.2", v->libcdir); /* built into glibc 2.34+, a stub */
    if (access(so, F_OK) == 0 && plan_add(v, pl, IT_MODULE, so, NULL) < 0)
        return -1;
    snprintf(conf, confn,
             "# written by vhostctl provision (the host's modules for these databases); the jail's own now\n"
             "passwd: %s\ngroup: %s\nshadow: %s\nhosts: files\n",
             mods[0], mods[1], mods[2]);
    return 0;
}

/* Every file below host directory dir (depth levels), as it is, or as a
 * module when so_modules and it ends in ".so". A missing dir adds none. */
static int plan_tree(struct prov *v, struct plan *pl, const char *dir, int depth, int so_modules)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int result = 0;
    for (struct dirent *de; result == 0 && (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth > 0)
                result = plan_tree(v, pl, path, depth - 1, so_modules);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        size_t n = strlen(de->d_name);
        int so = so_modules && n > 3 && strcmp(de->d_name + n - 3, ".so") == 0;
        result = plan_add(v, pl, so ? IT_MODULE : IT_ASIS, path, NULL);
    }
    closedir(d);
    return result;
}

/* ---- probing and copying the plan --------------------------------- */

static int probe_item(struct prov *v, int hostfd, const vh_deps_opts *o, struct item *it)
{
    struct stat st;
    int fd;
    switch (it->kind) {
    case IT_PROGRAM:
        v->item_pam = 0;
        if (vh_deps_walk(hostfd, it->path, o, probe_dep, v, v->e) < 0 || v->failed)
            return -1;
        it->pam = v->item_pam;
        return 0;
    case IT_MODULE: return vh_deps_walk_module(hostfd, it->path, o, probe_dep, v, v->e) < 0 || v->failed ? -1 : 0;
    case IT_ASIS:
    case IT_CONFIG:
        fd = host_open(v, it->path, "to copy", &st);
        if (fd < 0)
            return -1;
        close(fd);
        return 0;
    case IT_LINK: return 0;
    }
    return 0;
}

static int copy_item(struct prov *v, int hostfd, const vh_deps_opts *o, const struct item *it)
{
    struct stat st;
    v->item_source = it->source;
    switch (it->kind) {
    case IT_PROGRAM: return vh_deps_walk(hostfd, it->path, o, copy_dep, v, v->e) < 0 || v->failed ? -1 : 0;
    case IT_MODULE: return vh_deps_walk_module(hostfd, it->path, o, copy_dep, v, v->e) < 0 || v->failed ? -1 : 0;
    case IT_LINK: /* a package's link under /etc is configuration too */
        return install_link(v, it->path, it->target, strncmp(it->path, "/etc/", 5) == 0);
    case IT_ASIS:
    case IT_CONFIG: break;
    }
    if (done_has(v, it->path))
        return 0;
    int fd = host_open(v, it->path, "to copy", &st);
    if (fd < 0)
        return -1;
    unsigned char *buf = NULL;
    size_t len = 0;
    int r = vh_rootfd_read_all(fd, MAX_COPY, &buf, &len);
    close(fd);
    if (r < 0)
        return vh_fail(v->e, VH_EX_IOERR, "cannot read %s on the host: %s", it->path, strerror(errno));
    /* never set-uid/set-gid, never writable by group or others */
    r = install_data_ex(v, it->path, buf, len, st.st_mode & 0755, it->kind == IT_CONFIG);
    if (r == 0 && it->kind == IT_ASIS)
        copied(v, it->path, it->path, "file", buf, len, st.st_mode & 0755);
    free(buf);
    if (r == 0)
        done_add(v, it->path);
    return r;
}

/* The plan: what the caller names, checked on the host; then what those
 * need at run time (PAM, NSS, locale, gconv), checked too. nss gets the
 * jail nsswitch.conf to write ("" when no program links libc). */
static int make_plan(struct prov *v, int hostfd, const vh_deps_opts *o, struct plan *pl, char *nss, size_t nssn)
{
    const vh_provision *p = v->p;
    const vh_prov_more *m = p->more;
    nss[0] = '\0';
    for (int i = 0; i < p->nprograms; i++) {
        snprintf(v->source, sizeof v->source, "program %s", p->programs[i]);
        if (plan_add(v, pl, IT_PROGRAM, p->programs[i], NULL) < 0)
            return -1;
    }
    for (int i = 0; m && i < m->nfiles; i++) {
        snprintf(v->source, sizeof v->source, "file %s", m->files[i]);
        char what[PATH_MAX + 16];
        snprintf(what, sizeof what, "--file %s", m->files[i]);
        if (!vh_provision_clean_path(m->files[i]))
            return vh_fail(v->e, VH_EX_USAGE, "%s: give the file's clean absolute path on the host", what);
        int kind = classify(v, m->files[i], what);
        if (kind < 0 || plan_add(v, pl, (enum item_kind)kind, m->files[i], NULL) < 0)
            return -1;
    }
    for (int i = 0; m && i < m->npackages; i++) {
        snprintf(v->source, sizeof v->source, "package %s", m->packages[i]);
        if (plan_package(v, pl, m->packages[i]) < 0)
            return -1;
    }
    int base = pl->n;
    for (int i = 0; i < base; i++)
        if (probe_item(v, hostfd, o, &pl->it[i]) < 0)
            return -1;
    /* PAM: the services named, and each libpam program's own */
    int anypam = 0;
    for (int i = 0; m && i < m->npam; i++) {
        snprintf(v->source, sizeof v->source, "pam %s", m->pam[i]);
        if (plan_pam(v, pl, m->pam[i], 0, 1) < 0)
            return -1;
    }
    for (int i = 0; i < base; i++) {
        if (pl->it[i].kind != IT_PROGRAM || !pl->it[i].pam)
            continue;
        anypam = 1;
        const char *b = strrchr(pl->it[i].path, '/');
        snprintf(v->source, sizeof v->source, "pam %s", b + 1);
        if (valid_service(b + 1) && plan_pam(v, pl, b + 1, 0, 0) < 0)
            return -1;
    }
    snprintf(v->source, sizeof v->source, "pam other");
    if ((anypam || (m && m->npam)) && plan_pam(v, pl, "other", 0, 0) < 0)
        return -1;
    if (v->libcdir[0]) {
        snprintf(v->source, sizeof v->source, "nss");
        if (plan_nss(v, pl, nss, nssn) < 0)
            return -1;
        snprintf(v->source, sizeof v->source, "locale");
        if (plan_tree(v, pl, VH_C_UTF8_LOCALE, 2, 0) < 0)
            return -1;
        snprintf(v->source, sizeof v->source, "gconv");
        if ((v->iconv || (m && m->gconv))) {
            if (plan_tree(v, pl, v->gconvdir, 1, 1) < 0)
                return -1;
        }
    } else if (m && m->gconv) {
        return vh_fail(v->e, VH_EX_USAGE, "--gconv: no program given links the C library (gconv modules are its)");
    }
    for (int i = base; i < pl->n; i++)
        if (probe_item(v, hostfd, o, &pl->it[i]) < 0)
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
    const vh_prov_more *m = p->more;
    for (int i = 0; m && i < m->ndirs; i++)
        if (!vh_provision_clean_path(m->dirs[i].path) || strcmp(m->dirs[i].path, "/") == 0)
            return vh_fail(e, VH_EX_USAGE, "directory %s: not a clean absolute path below the jail root",
                           m->dirs[i].path);
    for (int i = 0; m && i < m->nskels; i++)
        if (strcmp(m->skels[i].path, "/etc/passwd") == 0 || strcmp(m->skels[i].path, "/etc/group") == 0)
            return vh_fail(e, VH_EX_USAGE,
                           "config file %s: provision merges the jail's accounts itself - name the service's "
                           "accounts with user and group lines instead",
                           m->skels[i].path);
        else if (!vh_provision_clean_path(m->skels[i].path) || (m->skels[i].mode & ~0755u))
            return vh_fail(e, VH_EX_USAGE,
                           "config file %s: needs a clean absolute path and a mode of at most 0755 (got %04o)",
                           m->skels[i].path, m->skels[i].mode);
    struct prov v;
    memset(&v, 0, sizeof v);
    v.p = p;
    v.rootfd = -1;
    v.e = e;
    int hostfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (hostfd < 0)
        return vh_fail(e, VH_EX_OSERR, "cannot open /: %s", strerror(errno));
    char *extra[MAX_LDCONF_DIRS];
    int nextra = vh_provision_ldconf_dirs(VH_LD_SO_CONF, extra, MAX_LDCONF_DIRS);
    vh_deps_opts o = {NULL, (const char *const *)extra, nextra};
    struct plan pl = {NULL, 0, 0};
    char nss[1024];
    /* Everything on the host first: nothing is written unless all of it
     * can be installed. */
    int result = make_plan(&v, hostfd, &o, &pl, nss, sizeof nss);
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
    for (int i = 0; i < pl.n && result == 0; i++)
        if (copy_item(&v, hostfd, &o, &pl.it[i]) < 0)
            result = -1;
    if (result == 0 && (install_device(&v, "/dev/null", 1, 3) < 0 || install_device(&v, "/dev/zero", 1, 5) < 0 ||
                        install_device(&v, "/dev/urandom", 1, 9) < 0))
        result = -1;
    /* Directories after the files: one owned by a service user is not
     * written into by provision afterwards (trusted_dir). */
    for (int i = 0; m && i < m->ndirs && result == 0; i++)
        if (install_dir(&v, &m->dirs[i]) < 0)
            result = -1;
    for (int i = 0; m && i < m->nskels && result == 0; i++)
        if (install_data_ex(&v, m->skels[i].path, (const unsigned char *)m->skels[i].data, m->skels[i].len,
                            m->skels[i].mode, 1) < 0)
            result = -1;
    if (result == 0 && nss[0] &&
        install_data_ex(&v, "/etc/nsswitch.conf", (const unsigned char *)nss, strlen(nss), 0644, 1) < 0)
        result = -1;
    if (result == 0 && install_identity(&v) < 0)
        result = -1;
    umask(mask);
    plan_free(&pl);
    for (int i = 0; i < v.ndone; i++)
        free(v.done[i]);
    free(v.done);
    free(v.passwd);
    free(v.group);
    for (int i = 0; i < nextra; i++)
        free(extra[i]);
    close(hostfd);
    if (v.rootfd >= 0)
        close(v.rootfd);
    return result;
}
