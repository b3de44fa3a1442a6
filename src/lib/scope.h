/* scope.h - Landlock scoping: what a service may reach outside its
 * Landlock domain (THREATS K5, K1, K2).
 *
 * Since Linux 6.12 (Landlock ABI 6) a process can scope itself so that it
 * can neither connect to abstract unix sockets created outside its
 * domain (host daemons listening on "@name") nor signal processes outside
 * it. virtuald applies both to every service, run-as and root, after
 * no_new_privs. Older kernels (Debian 12's 6.1 has ABI 2, no scoping; or
 * Landlock disabled at boot): no scoping; the residual exposure is
 * documented in virtuald(8) and doc/threats.md, and the other layers (a
 * session and PID namespace of its own) still keep signals in. Any
 * Landlock ABI still gives the service a domain, for Landlock's ptrace
 * rule. */
#ifndef VH_SCOPE_H
#define VH_SCOPE_H

#include "vherr.h"

/* The Landlock ABI version of the running kernel, 0 when Landlock is not
 * available (not built, disabled at boot). */
int vh_scope_abi(void);

/* Put the calling process (and what it starts) in a Landlock domain of
 * its own: with ABI 6 or later scoped to abstract unix sockets and
 * signals of its own domain (returns 2); with ABI 1-5 without scoping
 * (returns 1). Either way Landlock's ptrace rule - no ptrace or
 * /proc/PID/root of a process outside - and no device nodes made. With
 * rootfd >= 0 (the jail's top, "/" after the pivot) files can be
 * opened, made, removed, renamed, linked, truncated and run only beneath
 * it: a directory of the host's passed in over a unix socket leads to
 * none (THREATS A1). No Landlock: returns 0, changes nothing. A kernel
 * that offers Landlock but refuses to apply it: -1, with e filled (fail
 * closed). Needs no_new_privs. */
int vh_scope_restrict(int rootfd, vh_err *e);

#endif
