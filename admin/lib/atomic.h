/* atomic.h - replace a file so that a crash leaves the old or the new
 * one: a new file made beside it, written, synced, renamed over it, and
 * the directory synced.
 *
 * Every step goes through the directory's descriptor or the new file's
 * own (THREATS K9): the temporary name is created O_EXCL | O_NOFOLLOW,
 * never reopened by name, and renamed within the same directory, so what
 * another process puts at that name is never followed. Owner and mode
 * are the caller's to set through a->fd before vh_atomic_commit. */
#ifndef VH_ATOMIC_H
#define VH_ATOMIC_H

#include <limits.h>
#include <stddef.h>

typedef struct vh_atomic {
    int dfd;                /* the directory: the caller's, never closed here */
    int fd;                 /* the new file while open, else -1 */
    char tmp[NAME_MAX + 1]; /* its name in dfd; "" when there is none left */
    int step;               /* after a failed commit: the step that failed */
} vh_atomic;

/* The steps of vh_atomic_commit, for the caller's messages. */
enum { VH_ATOMIC_SYNC = 1, VH_ATOMIC_CLOSE, VH_ATOMIC_RENAME };

/* How vh_atomic_commit ends the file. */
enum {
    VH_ATOMIC_DATASYNC = 1, /* fdatasync, not fsync: the metadata is not needed back */
    VH_ATOMIC_KEEP_OPEN = 2 /* a->fd stays open after the rename, for the caller's use */
};

/* Nothing made yet in dfd: what vh_atomic_abort finds to be no work. */
void vh_atomic_init(vh_atomic *a, int dfd);

/* The directory of path (O_RDONLY | O_DIRECTORY, to be synced) and
 * path's last component in base. An fd, or -1 with errno. */
int vh_atomic_dir_of(const char *path, char *base, size_t n);

/* Create tmp in a->dfd as a new file, mode 0600, open for flags
 * (O_WRONLY or O_RDWR). A tmp that ends in "XXXXXX" gets those six
 * replaced by random characters, tried again while the name exists (as
 * mkostemp); any other name is tried once. 0, or -1 with errno (EEXIST:
 * the name is taken) and nothing made. */
int vh_atomic_open(vh_atomic *a, const char *tmp, int flags);

/* Put the new file in place as name in a->dfd: fsync (or fdatasync)
 * a->fd and close it, unless it is already closed or is to be kept;
 * rename; sync the directory (a failure there is not reported: the file
 * is in place). A node the caller made itself is committed with a->fd
 * -1 and a->tmp set. 0, or -1 with errno and a->step; the temporary
 * file is left for vh_atomic_abort. */
int vh_atomic_commit(vh_atomic *a, const char *name, int how);

/* Close a->fd if open and remove the temporary file if it was not
 * renamed; errno is kept. */
void vh_atomic_abort(vh_atomic *a);

#endif
