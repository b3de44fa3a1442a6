#include "endtree.h"

#include "exitcodes.h"
#include "path.h"
#include "paths.h"
#include "running.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define VH_ENDTREE_ROUNDS 60 /* x 50 ms */

struct target {
    char path[PATH_MAX]; /* VH_RUNNING_DIR/NAME, as /proc/PID/fd/N reads */
    dev_t dev;
    ino_t ino;
};

/* Does pid hold the file? The link text first (no file system is asked,
 * so a hung FUSE file of some other process cannot stall us), then the
 * inode behind it. */
static int holds(pid_t pid, const struct target *tg)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    size_t plen = strlen(tg->path);
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        char link[PATH_MAX];
        if (de->d_name[0] == '.')
            continue;
        ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
        if (n < 0 || (size_t)n != plen || memcmp(link, tg->path, plen) != 0)
            continue;
        struct stat st;
        found = fstatat(dirfd(d), de->d_name, &st, 0) == 0 && st.st_dev == tg->dev && st.st_ino == tg->ino;
    }
    closedir(d);
    return found;
}

/* Is pid PID 1 of a PID namespace below ours ("NSpid: HOST ... 1")? */
static int is_init(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *line = strstr(buf, "\nNSpid:");
    if (!line)
        return 0;
    line += 7;
    int fields = 0;
    long last = -1;
    for (char *p = line; *p && *p != '\n';) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p < '0' || *p > '9')
            break;
        last = strtol(p, &p, 10);
        fields++;
    }
    return fields >= 2 && last == 1;
}

static int seen(const pid_t *v, long n, pid_t pid)
{
    for (long i = 0; i < n; i++)
        if (v[i] == pid)
            return 1;
    return 0;
}

/* One pass over /proc: SIGKILL to every holder that is PID 1 of a
 * namespace. Returns the number of holders, or -1 with e filled. */
static long pass(const struct target *tg, pid_t **killed, long *nkilled, vh_err *e)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return vh_fail(e, VH_EX_OSERR, "cannot read /proc: %s", strerror(errno));
    long holders = 0;
    struct dirent *de;
    while ((de = readdir(proc))) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        /* ourselves: vh_endtree_domain holds the file during the rounds */
        if (*end || v <= 0 || (pid_t)v == getpid() || !holds((pid_t)v, tg))
            continue;
        pid_t pid = (pid_t)v;
        holders++;
        if (!is_init(pid))
            continue; /* an outer virtuald: it ends with its PID 1 */
        /* The pidfd names one process from here on; what /proc says
         * after it was taken is about that process while it lives. */
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pfd < 0) {
            if (errno == ENOSYS) {
                closedir(proc);
                return vh_fail(e, VH_EX_OSERR,
                               "this kernel has no pidfd_open (Linux 5.3 or later is needed): "
                               "--kill cannot signal without risking a reused pid");
            }
            continue; /* gone */
        }
        if (holds(pid, tg) && is_init(pid) && syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0 &&
            !seen(*killed, *nkilled, pid)) {
            pid_t *grown = realloc(*killed, sizeof **killed * (size_t)(*nkilled + 1));
            if (grown) {
                *killed = grown;
                (*killed)[(*nkilled)++] = pid;
            }
        }
        close(pfd);
    }
    closedir(proc);
    return holders;
}

int vh_endtree_domain(const char *service, const char *address, long *ended, long *left, vh_err *e)
{
    *ended = *left = 0;
    struct target tg;
    char name[256];
    if (vh_running_name(service, address, name, sizeof name, e) < 0)
        return -1;
    struct stat st;
    if (lstat(VH_RUNNING_DIR, &st) < 0 && errno == ENOENT)
        return 0; /* nothing served since boot */
    int dfd = -1;
    if (vh_path_trust(VH_RUNNING_DIR, VH_WANT_DIR, VH_EX_CONFIG, &dfd, NULL, e) < 0)
        return -1;
    /* Held, with a shared lock, for all the rounds: no tree that ends
     * meanwhile can remove the file (its exclusive lock would need ours
     * gone), so a connection decided before the commit that opens it now
     * opens this inode, the one the rounds look for (a file removed and
     * made anew between two passes would hide it). A file a tree removed
     * between our open and our lock: open again. */
    int fd = -1;
    for (int tries = 0; tries < 64 && fd < 0; tries++) {
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            close(dfd);
            return err == ENOENT
                       ? 0
                       : vh_fail(e, VH_EX_OSERR, "cannot open %s/%s: %s", VH_RUNNING_DIR, name, strerror(err));
        }
        if (flock(fd, LOCK_SH) < 0 || fstat(fd, &st) < 0) {
            int err = errno;
            close(fd);
            close(dfd);
            return vh_fail(e, VH_EX_OSERR, "cannot lock %s/%s: %s", VH_RUNNING_DIR, name, strerror(err));
        }
        if (st.st_nlink == 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        close(dfd);
        return vh_fail(e, VH_EX_TEMPFAIL, "%s/%s keeps being removed - run the command again", VH_RUNNING_DIR, name);
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != 0) {
        close(fd);
        close(dfd);
        return vh_fail(e, VH_EX_CONFIG, "%s/%s is not a regular file of root's - remove it", VH_RUNNING_DIR, name);
    }
    snprintf(tg.path, sizeof tg.path, "%s/%s", VH_RUNNING_DIR, name);
    tg.dev = st.st_dev;
    tg.ino = st.st_ino;
    pid_t *killed = NULL;
    long nkilled = 0, holders = 0;
    for (int round = 0;; round++) {
        holders = pass(&tg, &killed, &nkilled, e);
        if (holders <= 0 || round + 1 >= VH_ENDTREE_ROUNDS)
            break;
        /* Killed PID 1s and their outer virtualds take a moment to go;
         * a connection decided before the commit may still be on its
         * way to starting its tree. */
        struct timespec ms50 = {0, 50000000};
        nanosleep(&ms50, NULL);
    }
    /* as a tree's end does: the file goes when nobody else holds it */
    vh_running_release(fd, dfd, service, address);
    free(killed);
    if (holders < 0)
        return -1;
    *ended = nkilled;
    *left = holders;
    return 0;
}
