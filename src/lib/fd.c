#include "fd.h"

#include "exitcodes.h"
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int vh_fd_fill_std(vh_err *e)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open(VH_DEV_NULL, O_RDWR);
        if (n < 0)
            return vh_fail(e, VH_EX_OSERR, "opening /dev/null for fd %d: %s", fd, strerror(errno));
        if (n != fd) {
            close(n);
            return vh_fail(e, VH_EX_OSERR, "could not fill fd %d", fd);
        }
    }
    return 0;
}

int vh_fd_no_tty(int *replaced, vh_err *e)
{
    *replaced = 0;
    for (int fd = 0; fd <= 2; fd++) {
        if (!isatty(fd))
            continue;
        /* A terminal reaching the service is a way into the shell that
         * started the super-server (TIOCSTI, K3): /dev/null instead. */
        int n = open(VH_DEV_NULL, O_RDWR | O_CLOEXEC);
        if (n < 0)
            return vh_fail(e, VH_EX_OSERR, "opening /dev/null to replace terminal fd %d: %s", fd, strerror(errno));
        int rc = dup2(n, fd);
        int err = errno;
        close(n);
        if (rc < 0)
            return vh_fail(e, VH_EX_OSERR, "replacing terminal fd %d: %s", fd, strerror(err));
        *replaced |= 1 << fd;
    }
    return 0;
}

/* Mark every descriptor from lowfd to the soft RLIMIT_NOFILE; a limit
 * too large to walk is refused rather than left half done. */
static int cloexec_each(int lowfd, vh_err *e)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return vh_fail(e, VH_EX_OSERR, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20))
        return vh_fail(
            e, VH_EX_OSERR,
            "close_range unavailable, no procfs, and a descriptor limit of %llu too large to walk - refusing",
            (unsigned long long)rl.rlim_cur);
    for (int fd = lowfd; fd < (int)rl.rlim_cur; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
            return vh_fail(e, VH_EX_OSERR, "marking fd %d close-on-exec: %s", fd, strerror(errno));
    }
    return 0;
}

int vh_fd_cloexec_from(int lowfd, vh_err *e)
{
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    /* Older kernels, or a seccomp profile of the super-server's that
     * predates close_range: walk /proc/self/fd, but only a real procfs
     * (a jail could hold an empty directory of that name); otherwise
     * every number up to the descriptor limit. */
    DIR *d = opendir(VH_PROC_FD_DIR);
    struct statfs sf;
    if (d && (fstatfs(dirfd(d), &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)) {
        closedir(d);
        d = NULL;
    }
    if (!d)
        return cloexec_each(lowfd, e);
    int self = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        int fd = atoi(de->d_name);
        if (fd < lowfd || fd == self)
            continue;
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
            closedir(d);
            return vh_fail(e, VH_EX_OSERR, "marking fd %d close-on-exec: %s", fd, strerror(errno));
        }
    }
    closedir(d);
    return 0;
}

const char *vh_fd_type_name(mode_t mode)
{
    return S_ISREG(mode)    ? "a regular file"
           : S_ISDIR(mode)  ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
           : S_ISLNK(mode)  ? "a symbolic link"
                            : "of unknown type";
}

enum { RW_WRITE = 1, RW_AT = 2 };

/* One loop for the four: how is RW_WRITE (else read) | RW_AT (at off,
 * else at the file offset; a negative off stays an error, EINVAL). */
static ssize_t rw_full(int fd, void *buf, size_t n, off_t off, int how)
{
    size_t done = 0;
    while (done < n) {
        char *p = (char *)buf + done;
        off_t at = off + (off_t)done;
        ssize_t r;
        switch (how) {
        case RW_WRITE | RW_AT: r = pwrite(fd, p, n - done, at); break;
        case RW_WRITE: r = write(fd, p, n - done); break;
        case RW_AT: r = pread(fd, p, n - done, at); break;
        default: r = read(fd, p, n - done); break;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            if (!(how & RW_WRITE))
                break; /* end of file */
            errno = EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return (ssize_t)done;
}

ssize_t vh_fd_read_full(int fd, void *buf, size_t n)
{
    return rw_full(fd, buf, n, 0, 0);
}

ssize_t vh_fd_pread_full(int fd, void *buf, size_t n, off_t off)
{
    return rw_full(fd, buf, n, off, RW_AT);
}

int vh_fd_write_full(int fd, const void *buf, size_t n)
{
    return rw_full(fd, (void *)buf, n, 0, RW_WRITE) < 0 ? -1 : 0;
}

int vh_fd_pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
    return rw_full(fd, (void *)buf, n, off, RW_WRITE | RW_AT) < 0 ? -1 : 0;
}
