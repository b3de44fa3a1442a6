/* nosandbox.so - the positive controls of THREATS K4 and K6: preloaded
 * into virtuald's dynamically linked twin, it turns the two sandbox steps
 * into no-ops (the keyring join and the seccomp filter answer "done"
 * without reaching the kernel) and hides Landlock; everything else is the real virtuald,
 * the same jail entry included. So the attacks that the filter refuses
 * are shown to work against virtuald without it. Built as a shared object
 * for LD_PRELOAD; never part of virtuald. */
#include "shim.h"

#include <linux/keyctl.h>
#include <sys/syscall.h>

static int shim_answer(long nr, const long a[6], long *ret)
{
    *ret = 0;
    if (nr == SYS_seccomp)
        return 1;
    if (nr == SYS_keyctl && a[0] == KEYCTL_JOIN_SESSION_KEYRING)
        return 1;
    /* Landlock (src/lib/scope.c): "no Landlock here", so no domain - a
     * Landlock domain refuses mount(2) on its own, which would hide what
     * the filter does (K6's mount control). */
    if (nr == 444 /* landlock_create_ruleset */) {
        *ret = -1;
        return 1;
    }
    return 0;
}
