/* shim.h - the syscall(2) interposer the test-only preloads share
 * (nosandbox.so, abi2.so, noclose_range.so): each defines
 * shim_answer(nr, a, &ret), which returns 1 when it answers the call
 * itself (ret, and errno where it fails), 0 to pass it on. */
#ifndef VH_TEST_SHIM_H
#define VH_TEST_SHIM_H

#include <dlfcn.h>
#include <stdarg.h>

static int shim_answer(long nr, const long a[6], long *ret);

long syscall(long nr, ...);
long syscall(long nr, ...)
{
    /* like the C library's: six argument registers, whatever the call */
    va_list ap;
    va_start(ap, nr);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    long ret;
    if (shim_answer(nr, a, &ret))
        return ret;
    static long (*real)(long, ...);
    if (!real)
        real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

#endif
