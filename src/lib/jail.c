#include "jail.h"

#include "exitcodes.h"
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int vh_jail_open(const vh_row *row, vh_jail *j, vh_err *e)
{
    struct stat st;
    const char *root = row->root;
    j->root = root;
    j->fd = -1;
    j->base = row->base[0] ? row->base : NULL;
    j->basefd = -1;
    j->idmap_fd = -1;
    if (row->unjailed != 1 && strcmp(root, "/") == 0)
        return vh_fail(e, VH_EX_OSFILE,
                       "row %s %s: its jail is / - the host's whole file system, no jail at all; give the domain a "
                       "jail (vhostctl set %s %s --root DIR), or mark it as meant to run without one (vhostctl set "
                       "%s %s --unjailed on)",
                       row->service, row->address, row->service, row->address, row->service, row->address);
    unsigned flags = row->unjailed == 1 ? 0 : VH_PATH_CHECK_EXPOSED;
    if (vh_path_trust_flags(root, VH_WANT_DIR, flags, VH_EX_OSFILE, &j->fd, &st, e) < 0)
        return -1;
    j->dev = st.st_dev;
    j->ino = st.st_ino;
    if (!j->base)
        return 0;
    /* sql/008: the base by the jail's rules (every component root's, no
     * symlink, K7), never on a root of "/" or an unjailed row: there it
     * would cover the host's own directories (vh_row_valid refuses it
     * too). */
    if (row->unjailed == 1 || strcmp(root, "/") == 0) {
        vh_jail_close(j);
        return vh_fail(e, VH_EX_OSFILE,
                       "row %s %s: a base (%s) is only for a jail, not for a root of / or an unjailed row - vhostctl "
                       "set %s %s --base none",
                       row->service, row->address, j->base, row->service, row->address);
    }
    vh_err sub;
    if (vh_path_trust_flags(j->base, VH_WANT_DIR, VH_PATH_CHECK_EXPOSED, VH_EX_OSFILE, &j->basefd, &st, &sub) < 0) {
        vh_jail_close(j);
        return vh_fail(e, sub.code, "base %s of jail %s: %s", j->base, root, sub.msg);
    }
    j->base_dev = st.st_dev;
    j->base_ino = st.st_ino;
    return 0;
}

void vh_jail_close(vh_jail *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    if (j->basefd >= 0)
        close(j->basefd);
    j->basefd = -1;
}

static int same_as_checked(const vh_jail *j, const char *what, vh_err *e)
{
    struct stat st;
    if (stat("/", &st) < 0)
        return vh_fail(e, VH_EX_OSERR, "stat / after %s: %s", what, strerror(errno));
    if (st.st_dev != j->dev || st.st_ino != j->ino)
        return vh_fail(e, VH_EX_OSFILE, "jail %s changed between check and %s - refusing", j->root, what);
    return 0;
}

/* Walk j->root again with the path checker; the result must be the
 * directory checked at vh_jail_open (same device and inode). */
static int reopen_same(const vh_jail *j, int *fd, const char *when, vh_err *e)
{
    struct stat st;
    *fd = -1;
    if (vh_path_trust(j->root, VH_WANT_DIR, VH_EX_OSFILE, fd, &st, e) < 0)
        return -1;
    if (st.st_dev != j->dev || st.st_ino != j->ino) {
        close(*fd);
        *fd = -1;
        return vh_fail(e, VH_EX_OSFILE, "jail %s changed between check and %s - refusing", j->root, when);
    }
    return 0;
}

/* The base, walked again with the path checker in the new namespace
 * (mount(2) takes a source only from the caller's own namespace): it
 * must be the directory checked at vh_jail_open. */
static int reopen_base(const vh_jail *j, int *fd, vh_err *e)
{
    struct stat st;
    vh_err sub;
    *fd = -1;
    if (vh_path_trust(j->base, VH_WANT_DIR, VH_EX_OSFILE, fd, &st, &sub) < 0)
        return vh_fail(e, sub.code, "base %s of jail %s: %s", j->base, j->root, sub.msg);
    if (st.st_dev != j->base_dev || st.st_ino != j->base_ino) {
        close(*fd);
        *fd = -1;
        return vh_fail(e, VH_EX_OSFILE, "base %s of jail %s changed between check and unshare - refusing", j->base,
                       j->root);
    }
    return 0;
}

/* name below dirfd, opened without following a symlink: an O_PATH
 * descriptor of a directory, *st its stat; or -1 with errno (ENOTDIR
 * also for a symlink or anything else that is no directory). */
static int open_dir_below(int dirfd, const char *name, struct stat *st)
{
    int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* O_PATH|O_NOFOLLOW may hand out a symlink itself: look at it */
    if (fstat(fd, st) < 0 || !S_ISDIR(st->st_mode)) {
        close(fd);
        errno = ENOTDIR;
        return -1;
    }
    return fd;
}

/* The new mount API (Linux 5.2; mount_setattr 5.12), declared here:
 * glibc's <sys/mount.h> and <linux/mount.h> clash in Debian 12. */
#define VH_NR_open_tree 428
#define VH_NR_move_mount 429
#define VH_NR_mount_setattr 442
#define VH_OPEN_TREE_CLONE 1U
#define VH_MOVE_MOUNT_F_EMPTY_PATH 0x00000004U
#define VH_MOVE_MOUNT_T_EMPTY_PATH 0x00000040U
#define VH_MOUNT_ATTR_RDONLY 0x00000001ULL
#define VH_MOUNT_ATTR_NOSUID 0x00000002ULL
#define VH_MOUNT_ATTR_NODEV 0x00000004ULL
#define VH_MOUNT_ATTR_IDMAP 0x00100000ULL

struct vh_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* Issue 11: a detached copy of the mount at directory src (not its
 * submounts: open_tree), with user namespace usernsfd's mapping and
 * attrs set while it is still detached (mount_setattr). The tree's
 * descriptor, or -1 with errno. */
static int idmapped_clone(int src, int usernsfd, uint64_t attrs)
{
    int t = (int)syscall(VH_NR_open_tree, src, "", VH_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
    if (t < 0)
        return -1;
    struct vh_mount_attr a = {.attr_set = attrs | VH_MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)usernsfd};
    if (syscall(VH_NR_mount_setattr, t, "", AT_EMPTY_PATH, &a, sizeof a) < 0) {
        int err = errno;
        close(t);
        errno = err;
        return -1;
    }
    return t;
}

/* Bind the directory src onto the directory dst (both descriptors,
 * nothing resolved again), not recursively, as an idmapped mount
 * (idmapped_clone), then put in place (move_mount). With top not NULL,
 * *top is an O_PATH descriptor of the new mount's top. Returns 0 or -1
 * with errno. */
static int bind_idmapped(int src, int dst, int usernsfd, uint64_t attrs, int *top)
{
    int t = idmapped_clone(src, usernsfd, attrs);
    if (t < 0)
        return -1;
    int rc = (int)syscall(VH_NR_move_mount, t, "", dst, "", VH_MOVE_MOUNT_F_EMPTY_PATH | VH_MOVE_MOUNT_T_EMPTY_PATH);
    /* the descriptor of the tree now names the new mount's top */
    if (rc == 0 && top && (*top = openat(t, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = -1;
    int err = errno;
    close(t);
    errno = err;
    return rc;
}

int vh_jail_idmap_probe(int dirfd, int usernsfd)
{
    int t = idmapped_clone(dirfd, usernsfd, 0);
    if (t < 0)
        return errno;
    close(t); /* never attached: gone with its last descriptor */
    return 0;
}

/* The refusal when a jail's or base's file system takes no idmapped
 * mount: what a root service needs, and the ways out. */
static int idmap_refused(const char *what, const char *path, int err, vh_err *e)
{
    return vh_fail(e, VH_EX_OSFILE,
                   "%s %s: no idmapped mount of it for the root service's user namespace (%s) - a root service "
                   "runs as root of a user namespace of its own, and its jail must be on a file system that "
                   "takes idmapped mounts (ext4, xfs, btrfs; tmpfs from Linux 6.3); move it there, or give the "
                   "row a run-as user (virtuald(8), JAILS AND PRIVILEGES)",
                   what, path, strerror(err));
}

/* One directory of the base over the jail's: jailfd is the top of the
 * jail's own bind mount in the new namespace, basefd the base. Returns
 * 1 when bound, 0 when the base has no such directory, -1 with e. */
static int bind_base_dir(const vh_jail *j, int jailfd, int basefd, const char *name, vh_err *e)
{
    struct stat bst, jst, now;
    char src[64], dst[64];
    int bfd = open_dir_below(basefd, name, &bst);
    if (bfd < 0) {
        if (errno == ENOENT)
            return 0; /* not provided: the jail's own, if any, stays */
        return vh_fail(e, VH_EX_OSFILE,
                       "base %s: %s is %s - a base's code directories must be directories; rebuild the base with "
                       "vhostctl provision",
                       j->base, name,
                       errno == ENOTDIR || errno == ELOOP ? "a symlink or no directory" : strerror(errno));
    }
    /* the base's part: root's and not writable by anyone else, as its
     * top (the service runs what is in it) */
    if (bst.st_uid != 0 || (bst.st_mode & (S_IWGRP | S_IWOTH))) {
        close(bfd);
        return vh_fail(e, VH_EX_OSFILE,
                       "base %s: %s is writable by %s (owner uid %u, mode %04o) - chown root and chmod go-w %s/%s "
                       "(THREATS A11)",
                       j->base, name, bst.st_uid ? "its owner" : "group or others", (unsigned)bst.st_uid,
                       (unsigned)(bst.st_mode & 07777), j->base, name);
    }
    /* the mount point: a directory of the jail, never a symlink (which
     * the tenant would have aim the bind elsewhere) */
    int jfd = open_dir_below(jailfd, name, &jst);
    if (jfd < 0) {
        int err = errno;
        close(bfd);
        return vh_fail(e, VH_EX_OSFILE,
                       "jail %s: %s, where base %s is bound, is %s - the jail needs an empty directory there, owned by "
                       "root; vhostctl set SERVICE ADDRESS --base %s makes it (remove what is in the way first)",
                       j->root, name, j->base,
                       err == ENOENT                    ? "missing"
                       : err == ENOTDIR || err == ELOOP ? "a symlink or no directory"
                                                        : strerror(err),
                       j->base);
    }
    snprintf(src, sizeof src, "/proc/self/fd/%d", bfd);
    snprintf(dst, sizeof dst, "/proc/self/fd/%d", jfd);
    /* Not MS_REC: mounts below the base's directory are not carried in
     * (A12). Named through the descriptors: nothing resolved again. A
     * root service's (issue 11): idmapped, and read-only, nosuid and
     * nodev from the start. */
    int idmapped = j->idmap_fd >= 0;
    int rc = idmapped ? bind_idmapped(bfd, jfd, j->idmap_fd,
                                      VH_MOUNT_ATTR_RDONLY | VH_MOUNT_ATTR_NOSUID | VH_MOUNT_ATTR_NODEV, NULL)
                      : mount(src, dst, NULL, MS_BIND, NULL);
    int err = errno;
    close(jfd);
    close(bfd);
    if (rc < 0 && idmapped)
        return idmap_refused("base", j->base, err, e);
    if (rc < 0)
        return vh_fail(e, VH_EX_OSERR, "binding base %s/%s over jail %s/%s: %s", j->base, name, j->root, name,
                       strerror(err));
    /* The bind's own top: a fresh lookup crosses the new mount (the old
     * descriptor names the directory below it, and a remount through it
     * would change the jail's mount instead). It must be the base's. */
    int top = open_dir_below(jailfd, name, &now);
    if (top < 0 || now.st_dev != bst.st_dev || now.st_ino != bst.st_ino) {
        if (top >= 0)
            close(top);
        return vh_fail(e, VH_EX_OSFILE, "jail %s/%s is not base %s/%s after binding it - refusing", j->root, name,
                       j->base, name);
    }
    snprintf(dst, sizeof dst, "/proc/self/fd/%d", top);
    /* Read-only (the service can change no file of the base, which a
     * thousand jails share), nosuid (no set-uid or file capability in it
     * takes effect), nodev. The bind is ours alone, in this namespace. */
    if (!idmapped && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
        err = errno;
        close(top);
        return vh_fail(e, VH_EX_OSERR, "making base %s/%s read-only in jail %s: %s", j->base, name, j->root,
                       strerror(err));
    }
    /* and prove it took */
    struct statvfs sv;
    rc = fstatvfs(top, &sv);
    close(top);
    const unsigned long want = ST_RDONLY | ST_NOSUID | ST_NODEV;
    if (rc < 0 || (sv.f_flag & want) != want)
        return vh_fail(e, VH_EX_OSFILE,
                       "base %s/%s in jail %s is not read-only, nosuid and nodev after the remount - "
                       "refusing",
                       j->base, name, j->root);
    return 1;
}

/* Every directory the base provides over the jail's (jail.h). */
static int bind_base(const vh_jail *j, int jailfd, int basefd, vh_err *e)
{
    static const char *const dirs[VH_BASE_NDIRS] = VH_BASE_DIRS;
    int bound = 0;
    for (int i = 0; i < VH_BASE_NDIRS; i++) {
        int rc = bind_base_dir(j, jailfd, basefd, dirs[i], e);
        if (rc < 0)
            return -1;
        bound += rc;
    }
    /* a base with none of them gives the service nothing: a mistake */
    if (!bound)
        return vh_fail(e, VH_EX_OSFILE,
                       "base %s has none of bin, sbin, lib, lib32, lib64, libx32, usr - build it with vhostctl "
                       "provision %s --program ...",
                       j->base, j->base);
    return 0;
}

/* statmount(2), Linux 6.8: the unique ids of a mount and of its parent.
 * Declared here because the system headers predate it. */
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif
#define VH_NR_statmount 457
#define VH_STATMOUNT_MNT_BASIC 0x00000002U

struct vh_mnt_id_req {
    uint32_t size, spare;
    uint64_t mnt_id, param;
};

struct vh_statmount {
    uint32_t size, spare1;
    uint64_t mask;
    uint32_t sb_dev_major, sb_dev_minor;
    uint64_t sb_magic;
    uint32_t sb_flags, fs_type;
    uint64_t mnt_id, mnt_parent_id;
    uint32_t mnt_id_old, mnt_parent_id_old;
    uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
    uint32_t mnt_root, mnt_point;
    uint64_t spare2[50];
    char str[512];
};

static int statmount_basic(uint64_t id, struct vh_statmount *sm)
{
    struct vh_mnt_id_req req = {.size = 24, .spare = 0, .mnt_id = id, .param = VH_STATMOUNT_MNT_BASIC};
    memset(sm, 0, sizeof *sm);
    if (syscall(VH_NR_statmount, &req, sm, sizeof *sm, 0) < 0 || !(sm->mask & VH_STATMOUNT_MNT_BASIC))
        return -1;
    return 0;
}

/* After pivot_root: is the parent of "/" the namespace's root mount (a
 * mount that is its own parent)? 1 yes, 0 no, -1 when the kernel cannot
 * tell (statmount is Linux 6.8+; the climb above does not depend on it). */
static int root_parent_is_top(void)
{
    struct statx sx;
    struct vh_statmount me, parent;
    memset(&sx, 0, sizeof sx);
    if (statx(AT_FDCWD, "/", 0, STATX_MNT_ID_UNIQUE, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID_UNIQUE))
        return -1;
    if (statmount_basic(sx.stx_mnt_id, &me) < 0)
        return -1;
    if (me.mnt_parent_id == me.mnt_id)
        return 1;
    if (statmount_basic(me.mnt_parent_id, &parent) < 0)
        return -1;
    return parent.mnt_parent_id == parent.mnt_id;
}

/* Climb from the current root to the top of this mount namespace.
 *
 * pivot_root attaches the new root where the old root was mounted. On a
 * booted system the old root sits on the root of rootfs, which the new
 * root then covers: nothing above it. But when virtuald itself runs inside
 * a chroot (a super-server started under chroot(8), a build chroot), the
 * old root is mounted somewhere inside the host's tree, and a root service
 * could climb out of its jail into that tree with chroot and "..".
 * virtuald is root in a private copy of the namespace, so it climbs out of
 * any outer chroot first (chroot into the jail, then ".." from the old
 * root until "/" stops changing, then chroot(".")). The pivot that
 * follows then detaches the whole host tree. cwd is left at the top. */
int vh_jail_climb(int jailfd, vh_err *e)
{
    int top = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (top < 0)
        return vh_fail(e, VH_EX_OSERR, "open /: %s", strerror(errno));
    /* root := the jail (below us), cwd := the old root (now outside it) */
    if (fchdir(jailfd) < 0 || chroot(".") < 0 || fchdir(top) < 0) {
        close(top);
        return vh_fail(e, VH_EX_OSERR, "leaving the outer root: %s", strerror(errno));
    }
    close(top);
    struct stat was, now;
    if (stat(".", &was) < 0)
        return vh_fail(e, VH_EX_OSERR, "stat .: %s", strerror(errno));
    for (int i = 0; i < 4096; i++) {
        if (chdir("..") < 0 || stat(".", &now) < 0)
            return vh_fail(e, VH_EX_OSERR, "climbing to the namespace root: %s", strerror(errno));
        if (now.st_dev == was.st_dev && now.st_ino == was.st_ino)
            break;
        was = now;
    }
    if (chroot(".") < 0)
        return vh_fail(e, VH_EX_OSERR, "chroot to the namespace root: %s", strerror(errno));
    return 0;
}

static int sys_pivot_root(const char *new_root, const char *put_old)
{
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/* unshare(CLONE_NEWNS | extra_ns_flags) and make every mount private:
 * nothing done in the new namespace propagates back to the host's. */
static int private_namespace(const vh_jail *j, int extra_ns_flags, vh_err *e)
{
    if (unshare(CLONE_NEWNS | extra_ns_flags) < 0)
        return vh_fail(e, VH_EX_OSERR, "unshare(mount namespace) for jail %s: %s", j->root, strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return vh_fail(e, VH_EX_OSERR, "making mounts private: %s", strerror(errno));
    return 0;
}

/* In the new namespace: the descriptors from before unshare name mounts
 * of the host's namespace, which mount(2) refuses to touch. Walk the jail
 * (into *fd) and the base (into j->basefd) again (every component is
 * root-owned and not writable by anyone else, so no tenant can swap
 * them) and check each is the very directory that was checked. */
static int reopen_in_namespace(vh_jail *j, int *fd, vh_err *e)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    if (reopen_same(j, fd, "unshare", e) < 0)
        return -1;
    if (j->base) {
        int basefd = -1;
        close(j->basefd);
        j->basefd = -1;
        if (reopen_base(j, &basefd, e) < 0) {
            close(*fd);
            *fd = -1;
            return -1;
        }
        j->basefd = basefd;
    }
    return 0;
}

int vh_jail_pivot(vh_jail *j, int extra_ns_flags, int *rootfd, vh_err *e)
{
    char self[64];
    if (rootfd)
        *rootfd = -1;
    if (private_namespace(j, extra_ns_flags, e) < 0)
        goto fail;
    if (strcmp(j->root, "/") == 0) {
        if (j->base) {
            vh_fail(e, VH_EX_OSFILE, "a base (%s) is only for a jail, not for a root of /", j->base);
            goto fail;
        }
        /* ROOT "/" is no isolation at all: the operator asked for it
         * (vhostctl check warns). Still a private namespace. */
        if (chdir("/") < 0) {
            vh_fail(e, VH_EX_OSERR, "chdir /: %s", strerror(errno));
            goto fail;
        }
        vh_jail_close(j);
        return 0;
    }
    int fd = -1;
    if (reopen_in_namespace(j, &fd, e) < 0)
        goto fail;
    /* pivot_root needs a mount point: bind that directory, named through
     * its descriptor, onto itself. Not MS_REC: mounts below the jail are
     * not carried in (A4, A12). */
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (j->idmap_fd >= 0) {
        /* A root service's (issue 11): the jail as its user namespace
         * sees it, root's files its 0's. The tree's descriptor names the
         * new mount's top (a walk would find it root's no longer: the
         * host sees the mapping's VH_USERNS_BASE there); it must be the
         * directory checked. */
        int top = -1;
        struct stat st;
        int rc = bind_idmapped(fd, fd, j->idmap_fd, 0, &top);
        int err = errno;
        close(fd);
        if (rc < 0) {
            idmap_refused("jail", j->root, err, e);
            goto fail;
        }
        fd = top;
        if (fstat(fd, &st) < 0 || st.st_dev != j->dev || st.st_ino != j->ino) {
            close(fd);
            vh_fail(e, VH_EX_OSFILE, "jail %s changed between check and mount - refusing", j->root);
            goto fail;
        }
    } else {
        if (mount(self, self, NULL, MS_BIND, NULL) < 0) {
            close(fd);
            vh_fail(e, VH_EX_OSERR, "bind-mounting jail %s: %s", j->root, strerror(errno));
            goto fail;
        }
        close(fd);
        /* Reach the top of the new mount by walking once more (a fresh
         * lookup crosses the mount); again it must be the same
         * directory. */
        if (reopen_same(j, &fd, "mount", e) < 0)
            goto fail;
    }
    /* sql/008: the base's directories onto the jail's bind mount, after
     * it exists (they must be mounts below it, to go along with the
     * pivot) and before the pivot (after it the base is out of sight). */
    if (j->base && bind_base(j, fd, j->basefd, e) < 0) {
        close(fd);
        goto fail;
    }
    if (j->basefd >= 0)
        close(j->basefd);
    j->basefd = -1;
    if (vh_jail_climb(fd, e) < 0) {
        close(fd);
        goto fail;
    }
    /* fd stays open for the caller (rootfd): after the pivot it names
     * the new "/" - the same mount and directory - for the service's
     * Landlock rule, without an open after the jail entry (A10). */
    if (fchdir(fd) < 0) {
        close(fd);
        vh_fail(e, VH_EX_OSERR, "fchdir to jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    /* pivot_root(".", "."): the old root is stacked on "." and detached
     * at once, so nothing of the host stays reachable (A1). */
    if (sys_pivot_root(".", ".") < 0) {
        vh_fail(e, VH_EX_OSERR, "pivot_root into jail %s: %s", j->root, strerror(errno));
        goto fail_fd;
    }
    if (umount2(".", MNT_DETACH) < 0) {
        vh_fail(e, VH_EX_OSERR, "detaching the old root: %s", strerror(errno));
        goto fail_fd;
    }
    if (chdir("/") < 0) {
        vh_fail(e, VH_EX_OSERR, "chdir / in jail %s: %s", j->root, strerror(errno));
        goto fail_fd;
    }
    if (same_as_checked(j, "pivot_root", e) < 0)
        goto fail_fd;
    /* Prove that nothing lies above the new root (A1): its parent must
     * be the namespace's own root mount (rootfs), which it covers. */
    if (root_parent_is_top() == 0) {
        vh_fail(e, VH_EX_OSFILE, "jail %s is not the top of its mount namespace after pivot_root - refusing", j->root);
        goto fail_fd;
    }
    if (rootfd)
        *rootfd = fd;
    else
        close(fd);
    return 0;
fail_fd:
    close(fd);
fail:
    vh_jail_close(j);
    return -1;
}

/* The directories a service's PATH and its programs come from. */
static const char *const system_dirs[] = {"/bin",           "/sbin", "/usr", "/usr/bin", "/usr/sbin", "/usr/local",
                                          "/usr/local/bin", "/etc",  "/lib", "/lib64",   "/usr/lib",  "/usr/lib64"};

/* Root's and not writable by group or others, or -1 with e filled. */
static int root_owned(const char *root, const char *path, const struct stat *st, uid_t owner, vh_err *e)
{
    if (st->st_uid == owner && !(st->st_mode & (S_IWGRP | S_IWOTH)))
        return 0;
    return vh_fail(e, VH_EX_OSFILE,
                   "jail %s: %s is writable by %s (owner uid %u, mode %04o) - the service would run the tenant's code; "
                   "chown root and chmod go-w %s%s (THREATS A11)",
                   root, path, st->st_uid != owner ? "its owner" : "group or others",
                   /* the uid on disk, not as an idmapped mount shows it */
                   (unsigned)(owner && st->st_uid >= owner ? st->st_uid - owner : st->st_uid),
                   (unsigned)(st->st_mode & 07777), strcmp(root, "/") ? root : "", path);
}

int vh_jail_check_system_dirs(const char *root, uid_t owner, vh_err *e)
{
    for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++) {
        struct stat st;
        /* stat follows a symlink such as /bin -> usr/bin: "/" is the jail
         * now, so it resolves inside, and the directory it names is the
         * one whose owner and mode matter. */
        if (stat(system_dirs[i], &st) < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                continue;
            return vh_fail(e, VH_EX_OSFILE, "jail %s: cannot stat %s: %s - refusing", root, system_dirs[i],
                           strerror(errno));
        }
        if (!S_ISDIR(st.st_mode))
            continue;
        if (root_owned(root, system_dirs[i], &st, owner, e) < 0)
            return -1;
    }
    return 0;
}

int vh_jail_check_program(const char *root, const char *program, const char *path, uid_t owner, vh_err *e)
{
    char buf[PATH_MAX];
    struct stat st;
    if (strchr(program, '/'))
        return stat(program, &st) == 0 && S_ISREG(st.st_mode) ? root_owned(root, program, &st, owner, e) : 0;
    /* execvp's search: the first regular file of that name on PATH. */
    for (const char *p = path; p && *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, program) < (int)sizeof buf &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode))
            return root_owned(root, buf, &st, owner, e);
        p = end ? end + 1 : NULL;
    }
    return 0;
}
