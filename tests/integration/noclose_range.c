/* noclose_range.so - preloaded into virtuald's dynamic twin: close_range
 * fails with ENOSYS, as on Linux before 5.11 (Debian 11's 5.10) or under a
 * container seccomp profile that predates the call, so virtuald takes its
 * fallback path. */
#include "shim.h"

#include <errno.h>
#include <sys/syscall.h>

static int shim_answer(long nr, const long a[6], long *ret)
{
    (void)a;
    if (nr != SYS_close_range)
        return 0;
    errno = ENOSYS;
    *ret = -1;
    return 1;
}
