/* endtree.h - end a domain's running services (issue 13 point 10:
 * vhostctl disable --kill, remove --kill).
 *
 * Each connection's virtuald and PID 1 of its service's PID namespace
 * hold the domain's running file open (running.h). Ending the domain's
 * services means: find in /proc the processes that hold that very file
 * (device and inode), and send SIGKILL to each that is PID 1 of a PID
 * namespace below ours: the kernel then kills every process of that
 * namespace - the service and all it forked, whatever their uid, root
 * services as run-as ones - and the outer virtuald logs the ended line.
 *
 * Never another domain's process, never an unrelated pid: a process is
 * signalled only through a pidfd taken before it is checked (holds the
 * file, is PID 1 of a namespace), so a pid reused between the scan and
 * the signal gets nothing. Only root can create in the running
 * directory, which must pass the path trust rules; no tenant process
 * ever holds the file.
 */
#ifndef VH_ENDTREE_H
#define VH_ENDTREE_H

#include "vherr.h"

/* End the services of domain (service, address), the row's key. Rounds
 * of the /proc scan every 50 ms until no process holds the file, 3 s at
 * most. *ended: PID-1 processes signalled; *left: holders still there at
 * the end (0 when all are gone). Returns 0 (also when the domain never
 * ran since boot), or -1 with e filled: the running directory untrusted
 * (VH_EX_CONFIG), the kernel without pidfds (VH_EX_OSERR, Linux < 5.3),
 * /proc unreadable. */
int vh_endtree_domain(const char *service, const char *address, long *ended, long *left, vh_err *e);

#endif
