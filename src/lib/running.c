#include "running.h"

#include "cgroup.h"
#include "exitcodes.h"
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int vh_running_name(const char *service, const char *address, char *out, size_t n, vh_err *e)
{
    return vh_cgroup_name(service, address, out, n, e);
}

/* First connection after boot: the directories. Only root can create in
 * /run, so nobody else can have made them. */
static int make_dirs(vh_err *e)
{
    if (mkdir(VH_RUNNING_PARENT, 0755) < 0 && errno != EEXIST)
        return vh_fail(e, VH_EX_OSERR, "cannot create %s: %s", VH_RUNNING_PARENT, strerror(errno));
    if (mkdir(VH_RUNNING_DIR, 0700) < 0 && errno != EEXIST)
        return vh_fail(e, VH_EX_OSERR, "cannot create %s: %s", VH_RUNNING_DIR, strerror(errno));
    return 0;
}

int vh_running_open(const char *service, const char *address, int limited, int *dirfd, vh_err *e)
{
    char name[VH_CGROUP_NAME_MAX + 1];
    *dirfd = -1;
    if (vh_running_name(service, address, name, sizeof name, e) < 0)
        return -1;
    /* The directory by descriptor: the file is released after the jail
     * is entered, where the path would name the jail's own files. */
    int dfd = open(VH_RUNNING_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 && errno == ENOENT && make_dirs(e) == 0)
        dfd = open(VH_RUNNING_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return vh_fail(e, VH_EX_OSERR, "cannot open %s: %s", VH_RUNNING_DIR, strerror(errno));
    /* THREATS M3: the files hold the domain's slots (slots.h); a
     * directory another user could write to could hold files of theirs.
     * Its parent too: whoever can write there can move the directory
     * aside (every slot held in it forgotten, the next connection makes
     * a new one) or replace limits.key. One fstatat: a parent only root
     * can write stays so between this check and the open above. */
    struct stat ds, ps;
    const char *bad = NULL;
    if (!limited) {
        /* issue 16: a row without a limit pays nothing for them */
    } else if (fstatat(AT_FDCWD, VH_RUNNING_PARENT, &ps, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(ps.st_mode) ||
               ps.st_uid != 0 || (ps.st_mode & 022))
        bad = VH_RUNNING_PARENT;
    else if (fstat(dfd, &ds) < 0 || ds.st_uid != 0 || (ds.st_mode & 022))
        bad = VH_RUNNING_DIR;
    if (bad) {
        close(dfd);
        return vh_fail(e, VH_EX_CONFIG,
                       "%s is not a root-owned directory that only root can write - remove it (virtuald makes it "
                       "again)",
                       bad);
    }
    for (int round = 0; round < 64; round++) {
        /* read-write: slots are write locks (slots.h) */
        int fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
        if (fd < 0) {
            int err = errno;
            close(dfd);
            return vh_fail(e, VH_EX_OSERR, "cannot open %s/%s: %s", VH_RUNNING_DIR, name, strerror(err));
        }
        /* A shared lock says "a tree of this domain holds it": the last
         * tree to end removes the file (vh_running_release). One that
         * ended between our open and our lock has unlinked what we
         * opened: open again. The exclusive lock is held for one unlink;
         * the deadline bounds the wait all the same. */
        struct stat st;
        if (flock(fd, LOCK_SH) < 0 || fstat(fd, &st) < 0) {
            int err = errno;
            close(fd);
            close(dfd);
            return vh_fail(e, VH_EX_OSERR, "cannot lock %s/%s: %s", VH_RUNNING_DIR, name, strerror(err));
        }
        if (st.st_nlink > 0) {
            *dirfd = dfd;
            return fd;
        }
        close(fd);
    }
    close(dfd);
    return vh_fail(e, VH_EX_OSERR, "cannot hold %s/%s: it keeps being removed", VH_RUNNING_DIR, name);
}

void vh_running_release(int fd, int dirfd, const char *service, const char *address)
{
    char name[VH_CGROUP_NAME_MAX + 1];
    vh_err ignored;
    /* No other tree holds it (their shared locks would refuse ours): the
     * file goes, so that /run holds one per domain being served, not one
     * per domain ever served (about 1 KB of kernel memory each). A tree
     * that opened it meanwhile finds it unlinked once it has its lock,
     * and opens a new one. */
    if (fd >= 0 && dirfd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        vh_running_name(service, address, name, sizeof name, &ignored) == 0)
        unlinkat(dirfd, name, 0);
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
}
