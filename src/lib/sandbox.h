/* sandbox.h - what a service may still ask of the kernel (THREATS K4, K6).
 *
 * Two steps, both after phase 1:
 *   vh_sandbox_keyring - while still root, before the jail: a fresh,
 *                        empty, anonymous session keyring
 *   vh_sandbox_seccomp - the very last step before exec, after
 *                        no_new_privs: a short deny-list of system calls
 *
 * The list is systemd's SystemCallFilter=/RestrictNamespaces=/
 * KeyringMode=private idea, kept short and documented entry by entry
 * (doc/design.md, virtuald(8)): kernel keyrings, namespace creation and
 * kernel surfaces no inetd service needs. A refused call fails with EPERM
 * (clone3 with ENOSYS, so that glibc falls back to clone, whose flags the
 * filter can read); the service is never killed. Only the native system
 * call ABI is let through: i386 `int $0x80` and x32 calls fail with EPERM,
 * or they would bypass the list. */
#ifndef VH_SANDBOX_H
#define VH_SANDBOX_H

#include "vherr.h"

#include <linux/filter.h>
#include <stddef.h>

/* One refused system call: its number in the native ABI, its name, and
 * in one line why a hosted service does without it. */
typedef struct vh_sandbox_rule {
    long nr;
    const char *name;
    const char *why;
} vh_sandbox_rule;

/* The calls refused outright with EPERM, whatever their arguments. Not
 * in this table, because the filter looks at their arguments or answers
 * differently: clone (EPERM with any CLONE_NEW* flag), clone3 (ENOSYS),
 * ioctl (EPERM for TIOCSTI and TIOCLINUX), fcntl (EPERM for F_SETLEASE:
 * a lease holds up every other opener of the inode - another tenant's
 * exec of a shared base's program - for up to lease-break-time, and
 * tells its holder when they come; no inetd service needs one), and
 * with VH_SANDBOX_SHARED_BASE inotify_init and inotify_init1. */
extern const vh_sandbox_rule vh_sandbox_denied[];
extern const int vh_sandbox_denied_count;

/* The namespace flags clone refuses: every CLONE_NEW* that clone(2) can
 * carry (CLONE_NEWTIME shares its bit with the exit signal there). */
#define VH_SANDBOX_CLONE_NS_FLAGS                                                                                      \
    (0x00020000UL /* NEWNS */ | 0x02000000UL /* NEWCGROUP */ | 0x04000000UL /* NEWUTS */ | 0x08000000UL /* NEWIPC */ | \
     0x10000000UL /* NEWUSER */ | 0x20000000UL /* NEWPID */ | 0x40000000UL /* NEWNET */)

/* Join a new anonymous session keyring (keyctl JOIN_SESSION_KEYRING with
 * no name): the super-server's session keyring, and whatever it links,
 * is no longer possessed. Call while still root: the keyring is charged
 * to root's key quota, not to a run-as user that many services share.
 * When keyring calls fail altogether for this process (ENOSYS, EPERM or
 * EACCES for the join and for asking its own session keyring alike: a
 * kernel without CONFIG_KEYS, or a filter of the super-server's own,
 * which every child inherits), there is nothing to isolate and it
 * returns 0; any other failure of the join is an error. Returns 0 or
 * -1 with e filled (VH_EX_OSERR). */
int vh_sandbox_keyring(vh_err *e);

/* Flags of vh_sandbox_program and vh_sandbox_seccomp. */
/* The row has a shared base (sql/008): its files are other tenants'
 * programs too, and inotify reports every open and access of an inode
 * whatever mount it is seen through - which programs another tenant
 * runs, and when. inotify_init and inotify_init1 are refused. */
#define VH_SANDBOX_SHARED_BASE 1u

/* The filter's classic BPF program, written into f (room for max
 * instructions). Returns the instruction count, or -1 when max is too
 * small. Exposed so that tests can run it on made-up calls, foreign
 * ABIs included, on kernels that no longer offer them. */
int vh_sandbox_program(struct sock_filter *f, size_t max, unsigned flags);

/* Install the filter for this process and everything it execs or
 * starts; it cannot be removed. Needs no_new_privs set before (or
 * CAP_SYS_ADMIN). Returns 0 or -1 with e filled (VH_EX_OSERR): a kernel
 * without seccomp filters is refused, not served unfiltered. */
int vh_sandbox_seccomp(unsigned flags, vh_err *e);

#endif
