/* abi2.so - preloaded into virtuald's dynamic twin: Landlock answers
 * "ABI 2" to the version query, as on Debian 12's Linux 6.1. */
#include <dlfcn.h>
#include <stdarg.h>
long syscall(long nr, ...);
long syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == 444 && a[0] == 0 && a[1] == 0 && a[2] == 1)
        return 2;
    static long (*real)(long, ...);
    if (!real)
        real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
