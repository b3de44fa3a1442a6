/* nosandbox.so - the positive controls of THREATS K4 and K6: preloaded
 * into virtuald's dynamically linked twin, it turns the two sandbox steps
 * into no-ops (the keyring join and the seccomp filter answer "done"
 * without reaching the kernel) and hides Landlock; everything else is the real virtuald,
 * the same jail entry included. So the attacks that the filter refuses
 * are shown to work against virtuald without it. Built as a shared object
 * for LD_PRELOAD; never part of virtuald. */
#include <dlfcn.h>
#include <linux/keyctl.h>
#include <stdarg.h>
#include <sys/syscall.h>

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
    if (nr == SYS_seccomp)
        return 0;
    if (nr == SYS_keyctl && a[0] == KEYCTL_JOIN_SESSION_KEYRING)
        return 0;
    /* Landlock (src/lib/scope.c): "no Landlock here", so no domain - a
     * Landlock domain refuses mount(2) on its own, which would hide what
     * the filter does (K6's mount control). */
    if (nr == 444 /* landlock_create_ruleset */)
        return -1;
    static long (*real)(long, ...);
    if (!real)
        real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
