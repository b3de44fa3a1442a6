/* reap.h - a root service's process tree (PRODUCT §8, THREATS A13).
 *
 * A root service gets its own PID and IPC namespaces: after
 * unshare(CLONE_NEWPID) the next child of virtuald is PID 1 of the new
 * namespace. virtuald stays outside as the service's minimal parent (the
 * super-server counts it as the connection), a PID-1 virtuald inside
 * reaps orphans and forwards signals, and the service is PID 1's child.
 * Neither virtuald process keeps the connection open, so the client sees
 * EOF when the service closes it. */
#ifndef VH_REAP_H
#define VH_REAP_H

#include <sys/types.h>

/* Wait for child, forwarding SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
 * SIGUSR2 to it; reap every other child that exits meanwhile (PID 1's
 * orphans). Returns the exit code to pass on: the child's status, or
 * 128 + signal number when it was killed. Never returns before child is
 * gone. wstatus (may be NULL) gets the child's wait status as waitpid
 * gave it, and is left alone when there was none (ECHILD). */
int vh_reap_until(pid_t child, int *wstatus);

/* Become an inert supervisor: close fds 0-2 (the connection is the
 * service's alone), make this process undumpable (no ptrace from the
 * service) and give up every capability. Returns 0 or -1. */
int vh_reap_retire(void);

#endif
