#include "scope.h"

#include "exitcodes.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Declared here: Debian 12's headers predate Landlock ABI 6 (the scoped
 * field). The system call numbers are the same on every architecture. */
#define VH_NR_landlock_create_ruleset 444
#define VH_NR_landlock_add_rule 445
#define VH_NR_landlock_restrict_self 446
#define VH_LANDLOCK_RULE_PATH_BENEATH 1
#define VH_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define VH_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define VH_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#define VH_LANDLOCK_ABI_SCOPED 6
#define VH_LANDLOCK_ACCESS_FS_MAKE_CHAR (1ULL << 6)
#define VH_LANDLOCK_ACCESS_FS_MAKE_BLOCK (1ULL << 11)
/* ABI 1: execute .. make_sym (bits 0-12); ABI 2 adds refer (13), ABI 3
 * truncate (14), ABI 5 ioctl_dev (15). */
#define VH_LANDLOCK_ACCESS_FS_ABI1 ((1ULL << 13) - 1)
#define VH_LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#define VH_LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#define VH_LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)

struct vh_landlock_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct vh_landlock_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

/* Every file-system access right the kernel's ABI knows. */
static uint64_t fs_rights(int abi)
{
    uint64_t r = VH_LANDLOCK_ACCESS_FS_ABI1;
    if (abi >= 2)
        r |= VH_LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        r |= VH_LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        r |= VH_LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return r;
}

int vh_scope_abi(void)
{
    long abi = syscall(VH_NR_landlock_create_ruleset, NULL, 0, VH_LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

int vh_scope_restrict(int rootfd, vh_err *e)
{
    int abi = vh_scope_abi();
    if (abi < 1)
        return 0;
    /* Any Landlock domain brings Landlock's ptrace rule: no ptrace, and
     * no /proc/PID/root or /proc/PID/mem, of a process outside the
     * domain - so even on kernels without scoping a service cannot reach
     * a host process of its uid through a procfs in its jail. A domain
     * must handle some access: device-node creation, which no service
     * needs (a root service has no CAP_MKNOD either); no rule grants it.
     * With the jail's top (rootfd) every file-system right the ABI knows
     * is handled, and one rule grants them all but device-node creation
     * beneath that top: inside the jail nothing changes, but a
     * directory that is not beneath it - one of the host's, passed over
     * a unix socket by a host process (pivot_root cannot stop that: the
     * descriptor names the host's mount) - leads to no file that can be
     * opened, made, removed, renamed, linked, truncated or run. What
     * Landlock does not govern stays: stat, chmod, chown, utimes,
     * extended attributes and connect(2) through such a descriptor - for
     * a root service and a colluding host process, host root (virtuald(8)
     * "Not contained", test_red_landlock.sh).
     * The attribute is the ABI-6 size; older kernels accept it with the
     * fields they do not know zero. */
    const uint64_t devnodes = VH_LANDLOCK_ACCESS_FS_MAKE_CHAR | VH_LANDLOCK_ACCESS_FS_MAKE_BLOCK;
    struct vh_landlock_ruleset_attr attr = {
        .handled_access_fs = rootfd >= 0 ? fs_rights(abi) : devnodes,
        .handled_access_net = 0,
        .scoped = abi >= VH_LANDLOCK_ABI_SCOPED ? VH_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | VH_LANDLOCK_SCOPE_SIGNAL : 0,
    };
    long fd = syscall(VH_NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (fd < 0)
        return vh_fail(e, VH_EX_OSERR, "landlock_create_ruleset (ABI %d): %s", abi, strerror(errno));
    if (rootfd >= 0) {
        struct vh_landlock_path_beneath_attr below = {
            .allowed_access = fs_rights(abi) & ~devnodes,
            .parent_fd = rootfd,
        };
        if (syscall(VH_NR_landlock_add_rule, (int)fd, VH_LANDLOCK_RULE_PATH_BENEATH, &below, 0) < 0) {
            int err = errno;
            close((int)fd);
            return vh_fail(e, VH_EX_OSERR, "landlock_add_rule (the jail's top, ABI %d): %s", abi, strerror(err));
        }
    }
    long rc = syscall(VH_NR_landlock_restrict_self, (int)fd, 0);
    int err = errno;
    close((int)fd);
    if (rc < 0)
        return vh_fail(e, VH_EX_OSERR, "landlock_restrict_self (ABI %d): %s", abi, strerror(err));
    return abi >= VH_LANDLOCK_ABI_SCOPED ? 2 : 1;
}
