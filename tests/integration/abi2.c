/* abi2.so - preloaded into virtuald's dynamic twin: Landlock answers
 * "ABI 2" to the version query, as on Debian 12's Linux 6.1. */
#include "shim.h"

static int shim_answer(long nr, const long a[6], long *ret)
{
    if (nr == 444 /* landlock_create_ruleset */ && a[0] == 0 && a[1] == 0 && a[2] == 1 /* _VERSION */) {
        *ret = 2;
        return 1;
    }
    return 0;
}
