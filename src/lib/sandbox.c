#include "sandbox.h"

#include "exitcodes.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The one ABI the filter lets through. Every other architecture value
 * (i386 through `int $0x80`, arm32 compat) is refused: the numbers below
 * are the native ones and mean other calls there. */
#if defined(__x86_64__)
#define VH_AUDIT_ARCH AUDIT_ARCH_X86_64
/* x32 calls carry the native arch value and this bit in the number. */
#define VH_X32_BIT 0x40000000U
#elif defined(__aarch64__)
#define VH_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "sandbox.c: add this architecture's AUDIT_ARCH_ value (and any second ABI it has) before building virtuald"
#endif

/* Calls from 424 on have one number on every architecture; headers
 * older than the kernel may lack them, and a missing entry would be a
 * silent hole in the list. */
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_fsopen
#define __NR_fsopen 430
#endif
#ifndef __NR_fsconfig
#define __NR_fsconfig 431
#endif
#ifndef __NR_fsmount
#define __NR_fsmount 432
#endif
#ifndef __NR_fspick
#define __NR_fspick 433
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_quotactl_fd
#define __NR_quotactl_fd 443
#endif

#define DENY(call, reason)                                                                                             \
    {                                                                                                                  \
        __NR_##call, #call, reason                                                                                     \
    }

/* Keep in step with doc/design.md "System-call filter" and virtuald(8). */
const vh_sandbox_rule vh_sandbox_denied[] = {
    /* K4: keyrings are not namespaced; uid 0 in a root service owns host
     * root's user and persistent keyrings */
    DENY(keyctl, "kernel keyrings: other processes' secrets, host root's user and persistent keyrings (K4)"),
    DENY(add_key, "plants a key in a keyring the host uses (K4)"),
    DENY(request_key, "keyring search and kernel key upcalls (K4)"),
    /* K6: a user namespace hands its creator every capability inside it */
    DENY(unshare, "new namespaces: a user namespace opens the kernel's whole privileged surface (K6)"),
    DENY(setns, "joins another namespace (K6)"),
    /* mounts: a root service has no CAP_SYS_ADMIN; this is the second wall */
    DENY(mount, "mounts rebuild a way out of the jail"),
    DENY(umount2, "unmounting uncovers what the jail hides"),
    DENY(pivot_root, "changes the namespace's root"),
    DENY(open_tree, "new mount API: clones mount trees"),
    DENY(move_mount, "new mount API: attaches mounts"),
    DENY(fsopen, "new mount API: creates file system contexts"),
    DENY(fsconfig, "new mount API: configures a file system"),
    DENY(fsmount, "new mount API: mounts a file system"),
    DENY(fspick, "new mount API: reconfigures a mounted file system"),
    DENY(mount_setattr, "changes mount flags (nosuid, read-only)"),
    /* kernel surfaces with a long record of privilege escalations */
    DENY(bpf, "eBPF programs and maps: a large kernel attack surface"),
    DENY(perf_event_open, "performance counters: kernel attack surface and side channels"),
    DENY(userfaultfd, "stalls the kernel inside a copy: the tool of many race exploits"),
    DENY(io_uring_setup, "io_uring: large kernel surface, its operations pass no system-call filter"),
    DENY(io_uring_enter, "io_uring (see io_uring_setup)"),
    DENY(io_uring_register, "io_uring (see io_uring_setup)"),
    /* the host as a whole (the capabilities are gone; a second wall) */
    DENY(kexec_load, "replaces the running kernel"),
    DENY(kexec_file_load, "replaces the running kernel"),
    DENY(init_module, "loads kernel code"),
    DENY(finit_module, "loads kernel code"),
    DENY(delete_module, "unloads kernel code"),
    DENY(reboot, "reboots or halts the host"),
    DENY(swapon, "host swap configuration"),
    DENY(swapoff, "host swap configuration"),
    DENY(acct, "host process accounting file"),
    DENY(settimeofday, "sets the host clock"),
    DENY(clock_settime, "sets the host clock"),
    DENY(sethostname, "the host's name (the UTS namespace is the host's)"),
    DENY(setdomainname, "the host's NIS domain name (the UTS namespace is the host's)"),
    DENY(quotactl, "host disk quotas"),
    DENY(quotactl_fd, "host disk quotas"),
    DENY(open_by_handle_at, "opens any inode by its handle, past every chroot (\"shocker\")"),
#ifdef __NR_lookup_dcookie
    DENY(lookup_dcookie, "profiling hook returning host paths"),
#endif
#ifdef __NR_iopl
    DENY(iopl, "raw I/O port access"),
#endif
#ifdef __NR_ioperm
    DENY(ioperm, "raw I/O port access"),
#endif
};
const int vh_sandbox_denied_count = (int)(sizeof vh_sandbox_denied / sizeof vh_sandbox_denied[0]);

int vh_sandbox_keyring(vh_err *e)
{
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) >= 0)
        return 0;
    int err = errno;
    /* Is there a keyring to isolate at all? If this process cannot ask
     * for its own session keyring either, with the same answer, nor can
     * anything it starts (ENOSYS: no CONFIG_KEYS; EPERM, EACCES or ENOSYS
     * from a filter of the super-server's own, which is inherited and
     * cannot be removed). Any other failure (a quota, memory) refuses. */
    int absent = err == ENOSYS || err == EPERM || err == EACCES;
    errno = 0;
    if (absent && syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) < 0 && errno == err)
        return 0;
    return vh_fail(e, VH_EX_OSERR,
                   "cannot join a fresh session keyring (keyctl JOIN_SESSION_KEYRING): %s - the service would possess "
                   "the super-server's keyring; check root's key quota (/proc/sys/kernel/keys/root_maxkeys, "
                   "/proc/key-users)",
                   strerror(err));
}

/* Little-endian: the low word of a 64-bit argument comes first. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) ((unsigned)(offsetof(struct seccomp_data, args) + 8 * (i)))
#else
#define ARG_LO(i) ((unsigned)(offsetof(struct seccomp_data, args) + 8 * (i) + 4))
#endif

#define EPERM_ACTION (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define ENOSYS_ACTION (SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))

/* The calls the filter decides by number: the deny-list, clone3, ioctl,
 * clone and fcntl, which have rules of their own, and the two inotify
 * calls of VH_SANDBOX_SHARED_BASE. */
#define FILTER_ENTRIES (sizeof vh_sandbox_denied / sizeof vh_sandbox_denied[0] + 6)
/* At most what vh_sandbox_program() emits: the arch and number loads
 * (FILTER_FIXED with the returns and the clone and ioctl checks), and a
 * search tree over the numbers - a JEQ per entry and at most one JGE per
 * entry above the leaves. */
#ifdef VH_X32_BIT
#define FILTER_FIXED 14
#else
#define FILTER_FIXED 13
#endif
#define FILTER_MAX (FILTER_FIXED + 2 * FILTER_ENTRIES)
_Static_assert(FILTER_MAX <= BPF_MAXINSNS, "the system-call filter outgrows a classic BPF program");

/* A tiny assembler: jumps name their targets, resolve() turns names into
 * the 8-bit forward offsets of classic BPF. T_RAW: an offset set where
 * the jump was written (the tree's branches). */
enum target { T_NEXT, T_ALLOW, T_EPERM, T_ENOSYS, T_IOCTL, T_CLONE, T_FCNTL, T_RAW, T_COUNT };

typedef struct program {
    struct sock_filter *f;
    unsigned char jt[FILTER_MAX], jf[FILTER_MAX]; /* enum target per instruction */
    size_t at[T_COUNT];                           /* where each target is */
    size_t n;
    int bad; /* out of room or a jump too far */
} program;

static void stmt(program *p, uint16_t code, uint32_t k)
{
    if (p->n >= FILTER_MAX) {
        p->bad = 1;
        return;
    }
    p->jt[p->n] = p->jf[p->n] = T_NEXT;
    p->f[p->n++] = (struct sock_filter)BPF_STMT(code, k);
}

static void jump(program *p, uint16_t op, uint32_t k, enum target jt, enum target jf)
{
    if (p->n >= FILTER_MAX) {
        p->bad = 1;
        return;
    }
    p->jt[p->n] = (unsigned char)jt;
    p->jf[p->n] = (unsigned char)jf;
    p->f[p->n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0);
}

static void here(program *p, enum target t)
{
    p->at[t] = p->n;
}

static int offset(const program *p, size_t i, enum target t, uint8_t *out)
{
    if (t == T_RAW)
        return 0; /* set when written */
    size_t to = t == T_NEXT ? i + 1 : p->at[t];
    if (to <= i || to - (i + 1) > 255)
        return -1;
    *out = (uint8_t)(to - (i + 1));
    return 0;
}

static int resolve(program *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (BPF_CLASS(p->f[i].code) != BPF_JMP)
            continue;
        if (offset(p, i, p->jt[i], &p->f[i].jt) < 0 || offset(p, i, p->jf[i], &p->f[i].jf) < 0)
            return -1;
    }
    return 0;
}

typedef struct entry {
    uint32_t nr;
    enum target to;
} entry;

static int by_nr(const void *a, const void *b)
{
    uint32_t x = ((const entry *)a)->nr, y = ((const entry *)b)->nr;
    return x < y ? -1 : x > y;
}

/* A balanced search over e[0..n) (sorted, n >= 1): a JGE on the middle
 * number splits, up to three JEQs decide a leaf, and a number on no
 * entry falls to T_ALLOW. About log2(n) + 3 comparisons for any call,
 * where a chain of JEQs costs one per entry: the kernel runs the filter
 * over every number when it installs it (its cache of always-allowed
 * calls), so the path length is paid per connection. */
static void tree(program *p, const entry *e, size_t n)
{
    if (n <= 3) {
        for (size_t i = 0; i < n; i++)
            jump(p, BPF_JEQ, e[i].nr, e[i].to, i + 1 < n ? T_NEXT : T_ALLOW);
        return;
    }
    size_t mid = n / 2;
    size_t at = p->n;
    jump(p, BPF_JGE, e[mid].nr, T_RAW, T_NEXT);
    tree(p, e, mid);
    size_t right = p->n;
    if (at < p->n && right - (at + 1) <= 255)
        p->f[at].jt = (uint8_t)(right - (at + 1));
    else
        p->bad = 1;
    tree(p, e + mid, n - mid);
}

/* Arch, number, the search tree, then the calls whose arguments matter.
 * The kernel caches "always allowed" per number, so calls not on the
 * list cost next to nothing once installed. */
int vh_sandbox_program(struct sock_filter *f, size_t max, unsigned flags)
{
    if (max < FILTER_MAX)
        return -1;
    program p;
    memset(&p, 0, sizeof p);
    p.f = f;
    entry e[FILTER_ENTRIES];
    size_t n = 0;
    for (int i = 0; i < vh_sandbox_denied_count; i++)
        e[n++] = (entry){(uint32_t)vh_sandbox_denied[i].nr, T_EPERM};
    /* clone3 passes its flags in memory the filter cannot read: ENOSYS,
     * and glibc falls back to clone. */
    e[n++] = (entry){__NR_clone3, T_ENOSYS};
    e[n++] = (entry){__NR_ioctl, T_IOCTL};
    e[n++] = (entry){__NR_clone, T_CLONE};
    e[n++] = (entry){__NR_fcntl, T_FCNTL};
    if (flags & VH_SANDBOX_SHARED_BASE) {
#ifdef __NR_inotify_init /* not on arm64, which has inotify_init1 only */
        e[n++] = (entry){__NR_inotify_init, T_EPERM};
#endif
        e[n++] = (entry){__NR_inotify_init1, T_EPERM};
    }
    qsort(e, n, sizeof e[0], by_nr);
    for (size_t i = 1; i < n; i++)
        if (e[i].nr == e[i - 1].nr)
            return -1; /* a number twice: the table is wrong */
    /* The arch field first: the numbers below mean other calls in
     * another ABI, and a foreign ABI is how a deny-list is bypassed. */
    stmt(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    jump(&p, BPF_JEQ, VH_AUDIT_ARCH, T_NEXT, T_EPERM);
    stmt(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef VH_X32_BIT
    jump(&p, BPF_JGE, VH_X32_BIT, T_EPERM, T_NEXT);
#endif
    tree(&p, e, n);
    /* clone: the kernel reads only the low 32 bits of the flags, where
     * every CLONE_NEW* lives. Threads and fork pass. */
    here(&p, T_CLONE);
    stmt(&p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(0));
    jump(&p, BPF_JSET, VH_SANDBOX_CLONE_NS_FLAGS, T_EPERM, T_ALLOW);
    /* ioctl: the command is an unsigned int to the kernel, so only the
     * low word counts (high bits set must not slip past). TIOCSTI types
     * into a terminal's input, TIOCLINUX pastes the console selection
     * (K3's second wall). */
    here(&p, T_IOCTL);
    stmt(&p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
    jump(&p, BPF_JEQ, TIOCSTI, T_EPERM, T_NEXT);
    jump(&p, BPF_JEQ, TIOCLINUX, T_EPERM, T_ALLOW);
    /* fcntl: the command is an int; F_SETLEASE only (F_GETLEASE and
     * every lock pass) */
    here(&p, T_FCNTL);
    stmt(&p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
    jump(&p, BPF_JEQ, F_SETLEASE, T_EPERM, T_ALLOW);
    here(&p, T_ALLOW);
    stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    here(&p, T_EPERM);
    stmt(&p, BPF_RET | BPF_K, EPERM_ACTION);
    here(&p, T_ENOSYS);
    stmt(&p, BPF_RET | BPF_K, ENOSYS_ACTION);
    if (p.bad || resolve(&p) < 0)
        return -1;
    return (int)p.n;
}

int vh_sandbox_seccomp(unsigned flags, vh_err *e)
{
    struct sock_filter f[FILTER_MAX];
    int n = vh_sandbox_program(f, FILTER_MAX, flags);
    if (n < 0)
        return vh_fail(e, VH_EX_SOFTWARE,
                       "the system-call filter does not assemble (a count or a jump out of step in sandbox.c) - a "
                       "build defect, report it");
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return vh_fail(e, VH_EX_OSERR,
                       "cannot install the system-call filter (seccomp): %s - the kernel needs CONFIG_SECCOMP_FILTER, "
                       "and no_new_privs must be set first",
                       strerror(errno));
    return 0;
}
