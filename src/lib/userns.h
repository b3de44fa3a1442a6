/* userns.h - a root service's user namespace (issue 11, THREATS A1).
 *
 * A root service used to be uid 0 of the host with an allow-list of
 * capabilities. Landlock keeps its opens beneath its jail, but not what
 * it does to a file a host process hands it over a unix socket (fchmod
 * to set-uid, fchown, ACL xattrs) nor whom it connects to: with a
 * colluding local user that was host root. Now every jailed root row
 * without --net-bind-service runs in a user namespace of its own whose
 * uid and gid 0..VH_USERNS_COUNT-1 are the host's VH_USERNS_BASE.. -
 * ids no host user has. Its capabilities count only there: over an
 * inode whose owner is not in that range (every host file) it has none.
 * Its jail is bound with an idmapped mount of the same mapping, so in
 * the jail nothing changes: on disk the files stay root's and the
 * tenants' users', and the service is root over them.
 *
 * What it cannot do there: bind a port below 1024 on the host's
 * network (the network namespace is the host's, owned by the initial
 * user namespace). A row with --net-bind-service (an ftpd's active
 * mode, port 20) therefore runs as host root as before, and virtuald(8)
 * says so. */
#ifndef VH_USERNS_H
#define VH_USERNS_H

#include "row.h" /* VH_USERNS_BASE, VH_USERNS_COUNT */
#include "vherr.h"

/* A new user namespace mapping uid and gid 0..VH_USERNS_COUNT-1 to the
 * host's VH_USERNS_BASE..: a short-lived helper process (sharing this
 * one's memory) creates it and stops; this process writes its maps and
 * keeps a descriptor of it. The kernel refuses a user namespace to a
 * chrooted process (virtuald under chroot(8), a build chroot): the
 * helper first climbs to the top of the mount namespace from dirfd, a
 * directory below its root (the jail). *nsfd: O_RDONLY, close-on-exec.
 * Returns 0 or -1 with e filled. Call before the PID namespace is
 * unshared (the helper would become its PID 1). forked: the helper is
 * a fork, not a clone sharing this memory (vhostctl: no start-up cost
 * matters there, and valgrind knows no CLONE_VM without threads). */
int vh_userns_make(int dirfd, int forked, int *nsfd, vh_err *e);

/* In the service's process, still host root: join the namespace, become
 * its uid and gid 0 (the host's VH_USERNS_BASE) with no supplementary
 * groups, and prove it: the ids read back 0 and "/" (the jail's top,
 * root's on disk) is uid and gid 0 through the idmapped mount. Closes
 * nsfd. Returns 0 or -1 with e filled. */
int vh_userns_enter(int nsfd, vh_err *e);

#endif
