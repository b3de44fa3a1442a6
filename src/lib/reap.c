#include "reap.h"

#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t forward_to;

/* Pass the signal on; when that is not allowed (a service that changed
 * its uid, and this process holds no CAP_KILL), end this process: as PID
 * 1 of the namespace its exit kills everything inside. */
static void forward(int sig)
{
    if (forward_to > 0 && kill((pid_t)forward_to, sig) < 0)
        _exit(128 + sig);
}

int vh_reap_until(pid_t child, int *wstatus)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    forward_to = child;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    for (;;) {
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            return 70; /* ECHILD: the child is gone without a status */
        }
        if (p != child)
            continue;   /* an orphan reaped */
        forward_to = 0; /* its pid may be reused: forward nothing more */
        if (wstatus)
            *wstatus = status;
        if (WIFEXITED(status))
            return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
            return 128 + WTERMSIG(status);
    }
}

int vh_reap_retire(void)
{
    for (int fd = 0; fd <= 2; fd++)
        close(fd);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return -1;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return -1;
    return 0;
}
