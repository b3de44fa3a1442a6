#include "jail.h"

#include "exitcodes.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

int vh_jail_open(const char *root, vh_jail *j, vh_err *e)
{
    struct stat st;
    j->root = root;
    j->fd = -1;
    if (vh_path_trust(root, VH_WANT_DIR, VH_EX_OSFILE, &j->fd, &st, e) < 0)
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
    return 0;
fail:
    vh_jail_close(j);
    return -1;
}
