#include "rootfd.h"

#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open2(int rootfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
    struct open_how how = {
        .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = resolve,
    };
    while (*path == '/')
        path++;
    if (!*path)
        path = ".";
    long fd;
    do
        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN); /* a rename raced the lookup: retry */
    return (int)fd;
}

int vh_rootfd_open(int rootfd, const char *path, int flags, mode_t mode)
{
    return open2(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int vh_rootfd_open_nofollow(int rootfd, const char *path, int flags, mode_t mode)
{
    return open2(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

int vh_rootfd_read_all(int fd, size_t max, unsigned char **buf, size_t *len)
{
    struct stat st;
    *buf = NULL;
    *len = 0;
    if (fstat(fd, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    if ((uintmax_t)st.st_size > max) {
        errno = EFBIG;
        return -1;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    unsigned char *b = malloc(cap);
    if (!b)
        return -1;
    for (;;) {
        if (n == cap) { /* the file grew while we read: never past max */
            if (cap > max) {
                free(b);
                errno = EFBIG;
                return -1;
            }
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return -1;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = vh_fd_pread_full(fd, b + n, cap - n, (off_t)n);
        if (r < 0) {
            int err = errno;
            free(b);
            errno = err;
            return -1;
        }
        n += (size_t)r;
        if (n < cap)
            break; /* end of file */
    }
    *buf = b;
    *len = n;
    return 0;
}
