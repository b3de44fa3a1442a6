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
#define VH_NR_landlock_restrict_self 446
#define VH_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define VH_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define VH_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#define VH_LANDLOCK_ABI_SCOPED 6
#define VH_LANDLOCK_ACCESS_FS_MAKE_CHAR (1ULL << 6)
#define VH_LANDLOCK_ACCESS_FS_MAKE_BLOCK (1ULL << 11)

struct vh_landlock_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

int vh_scope_abi(void)
{
    long abi = syscall(VH_NR_landlock_create_ruleset, NULL, 0, VH_LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

int vh_scope_restrict(vh_err *e)
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
     * The attribute is the ABI-6 size; older kernels accept it with the
     * fields they do not know zero. */
    struct vh_landlock_ruleset_attr attr = {
        .handled_access_fs = VH_LANDLOCK_ACCESS_FS_MAKE_CHAR | VH_LANDLOCK_ACCESS_FS_MAKE_BLOCK,
        .handled_access_net = 0,
        .scoped = abi >= VH_LANDLOCK_ABI_SCOPED ? VH_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | VH_LANDLOCK_SCOPE_SIGNAL : 0,
    };
    long fd = syscall(VH_NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (fd < 0)
        return vh_fail(e, VH_EX_OSERR, "landlock_create_ruleset (ABI %d): %s", abi, strerror(errno));
    long rc = syscall(VH_NR_landlock_restrict_self, (int)fd, 0);
    int err = errno;
    close((int)fd);
    if (rc < 0)
        return vh_fail(e, VH_EX_OSERR, "landlock_restrict_self (ABI %d): %s", abi, strerror(err));
    return abi >= VH_LANDLOCK_ABI_SCOPED ? 2 : 1;
}
