/* rootfd.h - opening paths inside a jail as the jail would see them.
 *
 * A jail's own symlinks are resolved inside the jail, exactly as the
 * chrooted service and its dynamic linker resolve them: an absolute
 * target starts again at the jail root and ".." never climbs above it
 * (openat2 with RESOLVE_IN_ROOT; magic links such as /proc/self/root are
 * refused). No path inside a jail can name a file outside it. */
#ifndef VH_ROOTFD_H
#define VH_ROOTFD_H

#include <sys/types.h>

/* Open path (absolute or relative: both start at the root) below rootfd
 * with flags (O_CLOEXEC is added) and mode. Returns an fd, or -1 with
 * errno set (ENOSYS: the kernel has no openat2, Linux < 5.6). */
int vh_rootfd_open(int rootfd, const char *path, int flags, mode_t mode);

/* The same, without following any symlink at all, also not inside the
 * jail (RESOLVE_NO_SYMLINKS): for writing, where the caller wants to
 * see a symlink rather than go where it points. */
int vh_rootfd_open_nofollow(int rootfd, const char *path, int flags, mode_t mode);

/* Read a whole regular file from fd into a new buffer (caller frees),
 * at most max bytes. Returns 0, or -1 with errno (EFBIG when larger). */
int vh_rootfd_read_all(int fd, size_t max, unsigned char **buf, size_t *len);

#endif
