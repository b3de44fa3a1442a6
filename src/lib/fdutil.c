#include "fdutil.h"

#include "exitcodes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int vh_fd_fill_std(vh_err *e)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", O_RDWR);
        if (n < 0)
            return vh_fail(e, VH_EX_OSERR, "opening /dev/null for fd %d: %s", fd, strerror(errno));
        if (n != fd) {
            close(n);
            return vh_fail(e, VH_EX_OSERR, "could not fill fd %d", fd);
        }
    }
    return 0;
}

int vh_fd_cloexec_from(int lowfd, vh_err *e)
{
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    /* Older kernels: walk /proc/self/fd (opened before any chroot). */
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return vh_fail(e, VH_EX_OSERR, "close_range and /proc/self/fd both unavailable: %s", strerror(errno));
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

const char *vh_file_type_name(mode_t mode)
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
