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

/* What a root service keeps (THREATS K5, PRODUCT §8): an allow-list, so
 * that a capability a future kernel adds is dropped, never kept by
 * omission. Each entry is what classic inetd services do as root:
 * switch to a logged-in user, chroot into a home, manage the files they
 * serve, signal their own children (their PID namespace holds nothing
 * else). Everything else - mount, pivot_root, setns (SYS_ADMIN), device
 * nodes (MKNOD), ptrace, raw sockets, host network and clock, modules,
 * open_by_handle_at (DAC_READ_SEARCH), file capabilities (SETFCAP),
 * other users' IPC (IPC_OWNER), the kernel log (SYSLOG), BPF, perf - is
 * gone from the bounding set. CAP_NET_BIND_SERVICE is kept only when the
 * row says so (vh_priv_caps_limit's flag): without it a root service cannot
 * bind another customer's address on a port below 1024. */
const int vh_priv_caps_root_keep[] = {
    CAP_CHOWN,                        /* give uploaded files to their user */
    CAP_DAC_OVERRIDE,                 /* read and write the users' files it serves */
    CAP_FOWNER,                       /* chmod/utime on those files */
    CAP_KILL,                         /* signal its children after they setuid (own PID namespace) */
    CAP_SETGID,                       /* become the logged-in user */
    CAP_SETUID,       CAP_SYS_CHROOT, /* ftpds chroot into a user's home */
};
const int vh_priv_caps_root_keep_count = (int)(sizeof vh_priv_caps_root_keep / sizeof vh_priv_caps_root_keep[0]);

int vh_priv_caps_root_keeps(int cap, int net_bind_service)
{
    if (cap == CAP_NET_BIND_SERVICE)
        return net_bind_service != 0;
    for (int i = 0; i < vh_priv_caps_root_keep_count; i++)
        if (vh_priv_caps_root_keep[i] == cap)
            return 1;
    return 0;
}

int vh_priv_caps_last(void)
{
    int last = CAP_LAST_CAP;
    /* Ask the kernel: it may know more capabilities than our headers. */
    while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
        last++;
    return last;
}

int vh_priv_caps_limit(int kind, vh_err *e)
{
    int last = vh_priv_caps_last();
    /* Every capability the kernel knows, not only those in our headers:
     * what is not on the allow-list goes (B5, K5). */
    for (int c = 0; c <= last; c++) {
        if (kind != VH_CAPS_NONE && vh_priv_caps_root_keeps(c, kind == VH_CAPS_ROOT_NET_BIND))
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            return vh_fail(e, VH_EX_OSERR, "dropping capability %d from the bounding set: %s", c, strerror(errno));
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
