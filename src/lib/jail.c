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
#include <sys/syscall.h>
#include <unistd.h>

int vh_jail_open(const vh_row *row, vh_jail *j, vh_err *e)
{
    struct stat st;
    const char *root = row->root;
    j->root = root;
    j->fd = -1;
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
    return 0;
}

void vh_jail_close(vh_jail *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
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

int vh_jail_chroot(vh_jail *j, vh_err *e)
{
    /* fchdir to the descriptor of the checked directory, then chroot(".")
     * so no path is resolved again (A9); chdir("/") so the cwd is inside
     * the new root (A2). */
    if (fchdir(j->fd) < 0) {
        vh_fail(e, VH_EX_OSERR, "fchdir to jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    if (chroot(".") < 0) {
        vh_fail(e, VH_EX_OSERR, "chroot to jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    if (chdir("/") < 0) {
        vh_fail(e, VH_EX_OSERR, "chdir / in jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    if (same_as_checked(j, "chroot", e) < 0)
        goto fail;
    vh_jail_close(j);
    return 0;
fail:
    vh_jail_close(j);
    return -1;
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
static int climb_to_namespace_top(int jailfd, vh_err *e)
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

int vh_jail_pivot(vh_jail *j, int extra_ns_flags, vh_err *e)
{
    char self[64];
    if (unshare(CLONE_NEWNS | extra_ns_flags) < 0) {
        vh_fail(e, VH_EX_OSERR, "unshare(mount namespace) for jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    /* Nothing done below may propagate back to the host's mounts. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        vh_fail(e, VH_EX_OSERR, "making mounts private: %s", strerror(errno));
        goto fail;
    }
    if (strcmp(j->root, "/") == 0) {
        /* ROOT "/" is no isolation at all: the operator asked for it
         * (vhostctl check warns). Still a private namespace. */
        if (chdir("/") < 0) {
            vh_fail(e, VH_EX_OSERR, "chdir /: %s", strerror(errno));
            goto fail;
        }
        vh_jail_close(j);
        return 0;
    }
    /* The descriptor from before unshare names a mount of the host's
     * namespace, which mount(2) refuses to touch: walk the path again in
     * the new namespace (every component is root-owned and not writable
     * by anyone else, so no tenant can swap it) and check it is the very
     * directory that was checked. */
    vh_jail_close(j);
    int fd = -1;
    if (reopen_same(j, &fd, "unshare", e) < 0)
        goto fail;
    /* pivot_root needs a mount point: bind that directory, named through
     * its descriptor, onto itself. Not MS_REC: mounts below the jail are
     * not carried in (A4, A12). */
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (mount(self, self, NULL, MS_BIND, NULL) < 0) {
        close(fd);
        vh_fail(e, VH_EX_OSERR, "bind-mounting jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    close(fd);
    /* Reach the top of the new mount by walking once more (a fresh
     * lookup crosses the mount); again it must be the same directory. */
    if (reopen_same(j, &fd, "mount", e) < 0)
        goto fail;
    if (climb_to_namespace_top(fd, e) < 0) {
        close(fd);
        goto fail;
    }
    int rc = fchdir(fd);
    close(fd);
    if (rc < 0) {
        vh_fail(e, VH_EX_OSERR, "fchdir to jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    /* pivot_root(".", "."): the old root is stacked on "." and detached
     * at once, so nothing of the host stays reachable (A1). */
    if (sys_pivot_root(".", ".") < 0) {
        vh_fail(e, VH_EX_OSERR, "pivot_root into jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    if (umount2(".", MNT_DETACH) < 0) {
        vh_fail(e, VH_EX_OSERR, "detaching the old root: %s", strerror(errno));
        goto fail;
    }
    if (chdir("/") < 0) {
        vh_fail(e, VH_EX_OSERR, "chdir / in jail %s: %s", j->root, strerror(errno));
        goto fail;
    }
    if (same_as_checked(j, "pivot_root", e) < 0)
        goto fail;
    /* Prove that nothing lies above the new root (A1): its parent must
     * be the namespace's own root mount (rootfs), which it covers. */
    if (root_parent_is_top() == 0) {
        vh_fail(e, VH_EX_OSFILE,
                "jail %s is not the top of its mount namespace after pivot_root - refusing a root service", j->root);
        goto fail;
    }
    return 0;
fail:
    vh_jail_close(j);
    return -1;
}

/* The directories a service's PATH and its programs come from. */
static const char *const system_dirs[] = {"/bin",           "/sbin", "/usr", "/usr/bin", "/usr/sbin", "/usr/local",
                                          "/usr/local/bin", "/etc",  "/lib", "/lib64",   "/usr/lib",  "/usr/lib64"};

/* Root's and not writable by group or others, or -1 with e filled. */
static int root_owned(const char *root, const char *path, const struct stat *st, vh_err *e)
{
    if (st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH)))
        return 0;
    return vh_fail(e, VH_EX_OSFILE,
                   "jail %s: %s is writable by %s (owner uid %u, mode %04o) - the service would run the tenant's code; "
                   "chown root and chmod go-w %s%s (THREATS A11)",
                   root, path, st->st_uid != 0 ? "its owner" : "group or others", (unsigned)st->st_uid,
                   (unsigned)(st->st_mode & 07777), strcmp(root, "/") ? root : "", path);
}

int vh_jail_check_system_dirs(const char *root, vh_err *e)
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
        if (root_owned(root, system_dirs[i], &st, e) < 0)
            return -1;
    }
    return 0;
}

int vh_jail_check_program(const char *root, const char *program, const char *path, vh_err *e)
{
    char buf[PATH_MAX];
    struct stat st;
    if (strchr(program, '/'))
        return stat(program, &st) == 0 && S_ISREG(st.st_mode) ? root_owned(root, program, &st, e) : 0;
    /* execvp's search: the first regular file of that name on PATH. */
    for (const char *p = path; p && *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, program) < (int)sizeof buf &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode))
            return root_owned(root, buf, &st, e);
        p = end ? end + 1 : NULL;
    }
    return 0;
}
