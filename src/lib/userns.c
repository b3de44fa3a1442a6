#include "userns.h"

#include "exitcodes.h"
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The helper's exit codes when it could not make the namespace (its
 * errno is lost: under a sanitizer it is a fork, sharing nothing). */
enum { HELPER_CLIMB = 101, HELPER_UNSHARE = 102, HELPER_ENOSPC = 103, HELPER_EPERM = 104, HELPER_OWNER = 105 };

static int helper(void *arg)
{
    int dirfd = *(int *)arg;
    vh_err e;
    /* the kernel refuses CLONE_NEWUSER to a chrooted process */
    if (vh_jail_climb(dirfd, &e) < 0)
        _exit(HELPER_CLIMB);
    /* The namespace's owner is its creator's euid, and the kernel charges
     * the per-user counts of everything inside (inotify instances,
     * pending signals, message-queue bytes) to the owner as well: make
     * it the mapping's own base uid, not host root. The real uid stays
     * 0: the kernel then records no RLIMIT_NPROC for the owner's level
     * (one from a creator that is not host root would count the
     * processes of every tenant's root service in one pool against the
     * super-server's limit - one tenant could use it up for all: red
     * team, test_red_userns_nproc.sh); each domain's processes are
     * bounded by its pids cgroup (K10). Capabilities kept across the
     * change (a creator without CAP_SYS_ADMIN would get a namespace some
     * kernels restrict). Raw system calls: this process shares the
     * memory of virtuald, whose C library would take it for a thread of
     * its own. */
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0 || syscall(SYS_setresuid, 0, VH_USERNS_BASE, 0) < 0 ||
        syscall(SYS_capget, &hdr, data) < 0)
        _exit(HELPER_OWNER);
    data[0].effective = data[0].permitted;
    data[1].effective = data[1].permitted;
    if (syscall(SYS_capset, &hdr, data) < 0)
        _exit(HELPER_OWNER);
    if (unshare(CLONE_NEWUSER) < 0)
        _exit(errno == ENOSPC ? HELPER_ENOSPC : errno == EPERM ? HELPER_EPERM : HELPER_UNSHARE);
    /* made: stop until the maps are written and the namespace held */
    syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
    _exit(0);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VH_USERNS_FORK 1
#else
static unsigned char helper_stack[64 * 1024] __attribute__((aligned(64)));
#endif

static int write_map(pid_t pid, const char *which, vh_err *e)
{
    char path[64], text[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, which);
    int n = snprintf(text, sizeof text, "0 %u %u\n", VH_USERNS_BASE, VH_USERNS_COUNT);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return vh_fail(e, VH_EX_OSERR, "opening %s for the root service's user namespace: %s", path, strerror(errno));
    ssize_t w = write(fd, text, (size_t)n);
    int err = errno;
    close(fd);
    if (w != n)
        return vh_fail(e, VH_EX_OSERR, "writing %s (0 %u %u) for the root service's user namespace: %s", path,
                       VH_USERNS_BASE, VH_USERNS_COUNT, w < 0 ? strerror(err) : "short write");
    return 0;
}

int vh_userns_make(int dirfd, int forked, int *nsfd, vh_err *e)
{
    *nsfd = -1;
    int arg = dirfd;
    pid_t pid = -1;
#ifdef VH_USERNS_FORK
    forked = 1;
#endif
    if (forked) {
        pid = fork();
        if (pid == 0)
            helper(&arg);
    } else {
#ifndef VH_USERNS_FORK
        /* CLONE_VM: no page tables copied; not CLONE_FS: its chroot and
         * cwd are its own (and unshare(CLONE_NEWUSER) needs that). */
        pid = clone(helper, helper_stack + sizeof helper_stack, CLONE_VM | SIGCHLD, &arg);
#endif
    }
    if (pid < 0)
        return vh_fail(e, VH_EX_OSERR, "starting the helper for the root service's user namespace: %s",
                       strerror(errno));
    int ws = 0, rc = -1;
    pid_t w;
    while ((w = waitpid(pid, &ws, WUNTRACED | __WALL)) < 0 && errno == EINTR)
        ;
    if (w != pid) {
        vh_fail(e, VH_EX_OSERR, "waiting for the user namespace helper: %s", strerror(errno));
        goto out;
    }
    if (!WIFSTOPPED(ws)) {
        int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
        vh_fail(e, VH_EX_OSERR,
                "cannot create the root service's user namespace: %s - a root service runs as uid 0 of a user "
                "namespace of its own (virtuald(8), JAILS AND PRIVILEGES); give the row a run-as user, or check "
                "user.max_user_namespaces",
                code == HELPER_CLIMB     ? "cannot leave the outer chroot"
                : code == HELPER_OWNER   ? "cannot make its owner the mapping's base uid"
                : code == HELPER_ENOSPC  ? "user.max_user_namespaces reached (ENOSPC)"
                : code == HELPER_EPERM   ? "not permitted (EPERM: a security module or a chroot refused it)"
                : code == HELPER_UNSHARE ? "unshare(CLONE_NEWUSER) failed"
                                         : "the helper died");
        pid = -1; /* reaped */
        goto out;
    }
    char path[64];
    if (write_map(pid, "uid_map", e) < 0 || write_map(pid, "gid_map", e) < 0)
        goto out;
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    *nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (*nsfd < 0) {
        vh_fail(e, VH_EX_OSERR, "opening %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &ws, __WALL) < 0 && errno == EINTR)
            ;
    }
    return rc;
}

int vh_userns_enter(int nsfd, vh_err *e)
{
    int rc = setns(nsfd, CLONE_NEWUSER);
    int err = errno;
    close(nsfd);
    if (rc < 0)
        return vh_fail(e, VH_EX_OSERR, "joining the root service's user namespace: %s", strerror(err));
    /* The host's uid 0 has no name in it: become its 0 (the host's
     * VH_USERNS_BASE), groups first (as vh_priv_set_groups). */
    if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return vh_fail(e, VH_EX_OSERR, "becoming root of the user namespace: %s", strerror(errno));
    uid_t r, ef, s;
    gid_t gr, ge, gs;
    if (getresuid(&r, &ef, &s) < 0 || r || ef || s || getresgid(&gr, &ge, &gs) < 0 || gr || ge || gs)
        return vh_fail(e, VH_EX_NOPERM, "ids are not 0 in the root service's user namespace - refusing");
    /* The jail's top is root's on disk (the path checker demanded it):
     * through the idmapped mount it must be this namespace's 0. Without
     * the mapping it would read 65534, and the service would be no one
     * in its own jail. */
    struct stat st;
    st.st_uid = (uid_t)-1;
    if (stat("/", &st) < 0 || st.st_uid != 0)
        return vh_fail(e, VH_EX_OSFILE,
                       "the jail's top is not root's inside the root service's user namespace (uid %d) - its "
                       "idmapped mount is missing; refusing",
                       (int)st.st_uid);
    return 0;
}
