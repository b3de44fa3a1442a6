/* scope.h - Landlock scoping: what a service may reach outside its
 * Landlock domain (THREATS K5, K1, K2).
 *
 * Since Linux 6.12 (Landlock ABI 6) a process can scope itself so that it
 * can neither connect to abstract unix sockets created outside its
 * domain (host daemons listening on "@name") nor signal processes outside
 * it. virtuald applies both to every service, run-as and root, after
 * no_new_privs. Older kernels (Debian 12's 6.1 has ABI 2, no scoping; or
 * Landlock disabled at boot): nothing to apply; the residual exposure is
 * documented in virtuald(8) and doc/threats.md, and the other layers (a
 * session and PID namespace of its own) still keep signals in. */
#ifndef VH_SCOPE_H
#define VH_SCOPE_H

#include "err.h"

/* The Landlock ABI version of the running kernel, 0 when Landlock is not
 * available (not built, disabled at boot). */
int vh_scope_abi(void);

/* With ABI 6 or later: restrict the calling process (and what it starts)
 * to abstract unix sockets and signals of its own domain; returns 1.
 * With an older ABI or no Landlock: returns 0, changes nothing. A kernel
 * that offers scoping but refuses to apply it: -1, with e filled (fail
 * closed). Needs no_new_privs (or CAP_SYS_ADMIN). */
int vh_scope_restrict(vh_err *e);

#endif
