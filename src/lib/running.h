/* running.h - which of virtuald's process trees serve a domain (issue 13
 * point 10: vhostctl disable/remove --kill).
 *
 * Each connection's virtuald opens the domain's file VH_RUNNING_DIR/NAME
 * (NAME as the pids cgroup's: "vh-" HEX(service) "-" HEX(address) of the
 * deciding row, cgroup.h) before it enters the jail: one open(2), created
 * when missing, close-on-exec. The descriptor stays in the table that
 * the outer virtuald and PID 1 of the service's namespace share, until
 * the tree is gone; the service never has it (close-on-exec), and cannot
 * reach PID 1's (undumpable, no capabilities, Landlock's ptrace rule).
 * So the processes that hold the file are exactly the domain's outer
 * virtualds and PID-1 reapers: vhostctl finds them in /proc, and
 * SIGKILL to a PID 1 from the host ends every process of its namespace.
 * Each holder takes a shared flock; the last tree of the domain to end
 * removes the file (vh_running_release), so /run holds a file per domain
 * being served, not per domain ever served; no pid is written anywhere,
 * so no pid can go stale.
 */
#ifndef VH_RUNNING_H
#define VH_RUNNING_H

#include "vherr.h"

#include <stddef.h>

/* The domain's file name (no directory) into out, size n >= 256. 0, or
 * -1 with e (VH_EX_SOFTWARE: too long for a file name). */
int vh_running_name(const char *service, const char *address, char *out, size_t n, vh_err *e);

/* Open (create when missing, with VH_RUNNING_DIR and its parent) the
 * domain's file read-write (issue 16's slots are write locks on it),
 * O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, and take
 * a shared flock on it (again on a new file if a tree that ended
 * meanwhile removed it). Returns the descriptor and, in *dirfd, one of
 * VH_RUNNING_DIR (O_PATH) for the release, or -1 with e filled
 * (VH_EX_OSERR; VH_EX_CONFIG when limited - the row has a limit, whose
 * slots are locks on this file - and VH_RUNNING_DIR or its parent is not
 * root's alone: THREATS M3; a row without a limit pays nothing for the
 * check, as it pays nothing else for limits). */
int vh_running_open(const char *service, const char *address, int limited, int *dirfd, vh_err *e);

/* The tree is gone: remove the domain's file (through dirfd: the
 * caller is inside the jail by then) when no other tree holds it, and
 * close both (-1: nothing). */
void vh_running_release(int fd, int dirfd, const char *service, const char *address);

#endif
