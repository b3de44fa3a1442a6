#include "log.h"

#include "vherr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* virtuald's own syslog client, instead of glibc's syslog(3), because:
 * - it never blocks for long: the socket is non-blocking; when a message
 *   does not fit (syslogd busy or stalled, THREATS J4) the process waits
 *   for room at most VH_LOG_WAIT_MS, once in its life, then drops. The
 *   wait keeps the audit trail whole under load (test_load: with a 100 ms
 *   wait one served line of 17,468 was lost at 32 parallel connections;
 *   with 1 s none); the once-only bound keeps a stopped daemon from
 *   holding connections;
 * - it never reconnects: glibc reconnects to /dev/log after an error,
 *   which after chroot would be the jail's /dev/log (A10). The socket is
 *   connected once, before the jail, close-on-exec;
 * - with no syslog socket at all it simply drops (F13). */
static int log_fd = -1;
static int log_stderr;
static char log_ident[32] = "virtuald";
static int log_stalled; /* a wait already timed out: never wait again */
/* Issue 13 point 10: the pid every line carries, taken once by
 * vh_log_open: virtuald's own, as the host sees it. PID 1 of the
 * service's namespace and the service's process before its exec share
 * or copy this memory, so their lines (a refusal after the served line)
 * carry it too, not the 1 or 2 getpid() answers inside the namespace. */
static pid_t log_pid;

#define VH_LOG_WAIT_MS 1000

/* Send; when the daemon's queue is full, wait for room and try again,
 * for at most VH_LOG_WAIT_MS in all. Many virtuald may be woken for one
 * free slot, so a wake-up is no promise: retry until the budget is spent.
 * Not vh_fd_write_full: a datagram goes whole or not at all, and a
 * blocked syslog daemon must cost a connection at most this bounded wait,
 * never a block (the socket is non-blocking on purpose). */
static void send_bounded(const char *buf, size_t len)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (send(log_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || log_stalled)
            return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = VH_LOG_WAIT_MS - ((now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000L);
        struct pollfd p = {.fd = log_fd, .events = POLLOUT};
        int r = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (r == 0) {
            log_stalled = 1; /* the daemon is not reading: drop from now on */
            return;
        }
        if (r < 0 && errno != EINTR)
            return;
    }
}

void vh_log_open(const char *ident)
{
    snprintf(log_ident, sizeof log_ident, "%s", ident);
    log_pid = getpid();
    log_stderr = isatty(2);
    /* tzset now: the timestamps must never read the jail's localtime. */
    tzset();
    if (log_fd >= 0)
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", _PATH_LOG);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return;
    }
    log_fd = fd;
}

void vh_log(int prio, const char *fmt, ...)
{
    char msg[3072], line[3300], stamp[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm))
        strcpy(stamp, "Jan  1 00:00:00");
    int pid = (int)(log_pid ? log_pid : getpid());
    int n =
        snprintf(line, sizeof line, "<%d>%s %s[%d]: %s", LOG_DAEMON | (prio & LOG_PRIMASK), stamp, log_ident, pid, msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    if (log_fd >= 0)
        send_bounded(line, (size_t)n);
    if (log_stderr) {
        /* only when stderr is a terminal: under inetd it is the client */
        dprintf(2, "%s[%d]: %s\n", log_ident, pid, msg);
    }
}

char *vh_log_value(const char *s, char *out, size_t n)
{
    char tmp[2048];
    vh_printable(s, tmp, sizeof tmp);
    int quote = tmp[0] == '\0' || strpbrk(tmp, " \"=") != NULL;
    size_t o = 0;
    if (n < 3) {
        if (n)
            out[0] = '\0';
        return out;
    }
    if (quote)
        out[o++] = '"';
    for (const char *p = tmp; *p && o + 5 < n; p++) {
        if (*p == '"') {
            memcpy(out + o, "\\x22", 4);
            o += 4;
        } else {
            out[o++] = *p;
        }
    }
    if (quote)
        out[o++] = '"';
    out[o] = '\0';
    return out;
}
