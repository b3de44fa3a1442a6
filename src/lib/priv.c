#include "priv.h"

#include "exitcodes.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int vh_priv_set_groups(uint32_t gid, const uint32_t *groups, int n, vh_err *e)
{
    gid_t list[64];
    if (n < 0 || n > (int)(sizeof list / sizeof list[0]))
        return vh_fail(e, VH_EX_SOFTWARE, "bad group count %d", n);
    for (int i = 0; i < n; i++)
        list[i] = (gid_t)groups[i];
    /* setgroups first: once the gid changes we could still do it as root,
     * but doing it first keeps the rule simple - groups, then gid, then
     * (after the jail) uid, never the other way round (B1, B2). */
    if (setgroups((size_t)n, list) < 0)
        return vh_fail(e, VH_EX_OSERR, "setgroups(%d groups): %s", n, strerror(errno));
    if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
        return vh_fail(e, VH_EX_OSERR, "setresgid(%u): %s", (unsigned)gid, strerror(errno));
    return 0;
}

int vh_priv_set_uid(uint32_t uid, uint32_t gid, vh_err *e)
{
    /* setresuid sets saved uid too: seteuid alone would let the service
     * setuid(0) back (B3). RLIMIT_NPROC EAGAIN is a failure like any. */
    if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
        return vh_fail(e, VH_EX_OSERR, "setresuid(%u): %s", (unsigned)uid, strerror(errno));
    uid_t r, ef, s;
    gid_t gr, ge, gs;
    if (getresuid(&r, &ef, &s) < 0 || r != uid || ef != uid || s != uid)
        return vh_fail(e, VH_EX_NOPERM, "uid is not %u everywhere after setresuid - refusing", (unsigned)uid);
    if (getresgid(&gr, &ge, &gs) < 0 || gr != gid || ge != gid || gs != gid)
        return vh_fail(e, VH_EX_NOPERM, "gid is not %u everywhere after setresgid - refusing", (unsigned)gid);
    /* Prove it: root must not come back. */
    if (setuid(0) == 0 || seteuid(0) == 0)
        return vh_fail(e, VH_EX_NOPERM, "uid 0 could be regained after dropping to %u - refusing", (unsigned)uid);
    if (gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
        return vh_fail(e, VH_EX_NOPERM, "gid 0 could be regained after dropping to %u - refusing", (unsigned)gid);
    gid_t none[1] = {0};
    if (setgroups(1, none) == 0)
        return vh_fail(e, VH_EX_NOPERM, "supplementary groups could be changed after dropping to %u - refusing",
                       (unsigned)uid);
    return 0;
}

const int vh_caps_root_drop[] = {
    CAP_SYS_ADMIN,       /* mount, pivot_root, setns: rebuild a way out */
    CAP_MKNOD,           /* disk device nodes (A5) */
    CAP_SYS_MODULE,      /* kernel modules */
    CAP_SYS_RAWIO,       /* /dev/mem, ioperm */
    CAP_SYS_PTRACE,      /* trace processes outside (A13) */
    CAP_SYS_BOOT,        /* reboot, kexec */
    CAP_DAC_READ_SEARCH, /* open_by_handle_at reaches any inode ("shocker") */
    CAP_SYS_TIME,        /* the host clock */
    CAP_NET_ADMIN,       /* host network configuration */
    CAP_NET_RAW,         /* raw sockets, spoofing */
    CAP_SYS_RESOURCE,    /* override limits */
    CAP_SYS_NICE,        /* starve the host */
    CAP_SYS_PACCT,       /* process accounting file */
    CAP_SYS_TTY_CONFIG,  /* vhangup */
    CAP_LINUX_IMMUTABLE, /* chattr +i */
    CAP_IPC_OWNER,       /* other users' IPC objects */
    CAP_LEASE,
    CAP_AUDIT_CONTROL,
    CAP_AUDIT_WRITE,
    CAP_AUDIT_READ,
    CAP_MAC_ADMIN,
    CAP_MAC_OVERRIDE,
    CAP_SYSLOG,          /* kernel log */
    CAP_WAKE_ALARM,
    CAP_BLOCK_SUSPEND,
    CAP_SETFCAP,         /* write file capabilities */
    CAP_SETPCAP,         /* change others' capability sets */
    CAP_KILL,            /* signal processes of other users */
#ifdef CAP_PERFMON
    CAP_PERFMON,
#else
    38,
#endif
#ifdef CAP_BPF
    CAP_BPF,
#else
    39,
#endif
#ifdef CAP_CHECKPOINT_RESTORE
    CAP_CHECKPOINT_RESTORE,
#else
    40,
#endif
};
const int vh_caps_root_drop_count = (int)(sizeof vh_caps_root_drop / sizeof vh_caps_root_drop[0]);

int vh_caps_last(void)
{
    int last = CAP_LAST_CAP;
    /* Ask the kernel: it may know more capabilities than our headers. */
    while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
        last++;
    return last;
}

int vh_caps_limit(int all_caps, vh_err *e)
{
    int last = vh_caps_last();
    if (all_caps) {
        for (int c = 0; c <= last; c++)
            if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                return vh_fail(e, VH_EX_OSERR, "dropping capability %d from the bounding set: %s", c, strerror(errno));
    } else {
        for (int i = 0; i < vh_caps_root_drop_count; i++) {
            int c = vh_caps_root_drop[i];
            if (c > last)
                continue;
            if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                return vh_fail(e, VH_EX_OSERR, "dropping capability %d from the bounding set: %s", c, strerror(errno));
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return vh_fail(e, VH_EX_OSERR, "clearing ambient capabilities: %s", strerror(errno));
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) < 0)
        return vh_fail(e, VH_EX_OSERR, "capget: %s", strerror(errno));
    data[0].inheritable = data[1].inheritable = 0;
    if (syscall(SYS_capset, &hdr, data) < 0)
        return vh_fail(e, VH_EX_OSERR, "clearing inheritable capabilities: %s", strerror(errno));
    return 0;
}

int vh_priv_no_new_privs(vh_err *e)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return vh_fail(e, VH_EX_OSERR, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
    return 0;
}
