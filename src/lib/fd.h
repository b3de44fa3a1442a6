/* fd.h - descriptors at start and before exec (THREATS D1, D2). */
#ifndef VH_FD_H
#define VH_FD_H

#include "vherr.h"

#include <sys/types.h>

/* Make sure fds 0, 1 and 2 are open (a closed one gets /dev/null), so
 * that nothing virtuald opens later (syslog, the database) can land on
 * them and be mistaken for the client. Returns 0 or -1. */
int vh_fd_fill_std(vh_err *e);

/* Replace each of fds 0, 1, 2 that is a terminal with /dev/null (a
 * super-server started from a shell passes its terminal on: TIOCSTI
 * would type into that shell, THREATS K3). *replaced gets bit fd set for
 * each one replaced, for the log. Returns 0 or -1. */
int vh_fd_no_tty(int *replaced, vh_err *e);

/* Mark every descriptor from 3 up close-on-exec, so the service gets
 * only 0, 1, 2 whatever the super-server left open (D1, A3), while
 * virtuald can still log until exec. Returns 0 or -1. */
int vh_fd_cloexec_from(int lowfd, vh_err *e);

/* "a FIFO", "a character device", ...: the type of st_mode for messages
 * that refuse a file which is not regular (THREATS K11). */
const char *vh_fd_type_name(mode_t mode);

/* The full-count loops: a signal (EINTR) or a short count is no end.
 * Not for a non-blocking descriptor (log.c's syslog socket waits at most
 * a second instead), nor for a cgroup file, written in one call. */

/* read (pread at off) until n bytes are in buf, end of file or an error:
 * the count read (less than n only at end of file), or -1 with errno. */
ssize_t vh_fd_read_full(int fd, void *buf, size_t n);
ssize_t vh_fd_pread_full(int fd, void *buf, size_t n, off_t off);

/* write (pwrite at off) all n bytes of buf: 0, or -1 with errno (EIO
 * when the system wrote nothing and named no error). */
int vh_fd_write_full(int fd, const void *buf, size_t n);
int vh_fd_pwrite_full(int fd, const void *buf, size_t n, off_t off);

#endif
