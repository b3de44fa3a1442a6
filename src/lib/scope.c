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
    if (abi < VH_LANDLOCK_ABI_SCOPED)
        return 0;
    /* No file system or network access is handled: only the scopes. */
    struct vh_landlock_ruleset_attr attr = {
        .handled_access_fs = 0,
        .handled_access_net = 0,
        .scoped = VH_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | VH_LANDLOCK_SCOPE_SIGNAL,
    };
    long fd = syscall(VH_NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (fd < 0)
        return vh_fail(e, VH_EX_OSERR, "landlock_create_ruleset (ABI %d, scoped): %s", abi, strerror(errno));
    long rc = syscall(VH_NR_landlock_restrict_self, (int)fd, 0);
    int err = errno;
    close((int)fd);
    if (rc < 0)
        return vh_fail(e, VH_EX_OSERR, "landlock_restrict_self (ABI %d): %s", abi, strerror(err));
    return 1;
}
