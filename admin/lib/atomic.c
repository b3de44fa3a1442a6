#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void vh_atomic_init(vh_atomic *a, int dfd)
{
    a->dfd = dfd;
    a->fd = -1;
    a->tmp[0] = '\0';
    a->step = 0;
}

int vh_atomic_dir_of(const char *path, char *base, size_t n)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if ((size_t)snprintf(base, n, "%s", slash ? slash + 1 : dir) >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The six X at the end of name (len long) replaced by random letters
 * and digits; 0, or -1 with errno. */
static int fill_x(char *name, size_t len)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[6];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    for (size_t i = 0; i < 6; i++)
        name[len - 6 + i] = set[r[i] % (sizeof set - 1)];
    return 0;
}

int vh_atomic_open(vh_atomic *a, const char *tmp, int flags)
{
    size_t len = strlen(tmp);
    if (len >= sizeof a->tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(a->tmp, tmp, len + 1);
    int templ = len >= 6 && strcmp(tmp + len - 6, "XXXXXX") == 0;
    for (int tries = 0; tries < 100; tries++) {
        if (templ && fill_x(a->tmp, len) < 0)
            break;
        a->fd = openat(a->dfd, a->tmp, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (a->fd >= 0)
            return 0;
        if (errno != EEXIST || !templ)
            break;
    }
    a->tmp[0] = '\0';
    return -1;
}

int vh_atomic_commit(vh_atomic *a, const char *name, int how)
{
    if (a->fd >= 0) {
        a->step = VH_ATOMIC_SYNC;
        if ((how & VH_ATOMIC_DATASYNC ? fdatasync(a->fd) : fsync(a->fd)) < 0)
            return -1;
        if (!(how & VH_ATOMIC_KEEP_OPEN)) {
            a->step = VH_ATOMIC_CLOSE;
            int rc = close(a->fd);
            a->fd = -1;
            if (rc < 0)
                return -1;
        }
    }
    a->step = VH_ATOMIC_RENAME;
    if (renameat(a->dfd, a->tmp, a->dfd, name) < 0)
        return -1;
    a->tmp[0] = '\0';
    a->step = 0;
    /* the rename itself survives a crash only once the directory is on disk */
    fsync(a->dfd);
    return 0;
}

void vh_atomic_abort(vh_atomic *a)
{
    int err = errno;
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    if (a->tmp[0])
        unlinkat(a->dfd, a->tmp, 0);
    a->tmp[0] = '\0';
    errno = err;
}
