#include "log.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* virtuald's own syslog client instead of syslog(3), for two reasons:
 * glibc's socket is blocking, so a stopped or flooded syslog daemon
 * would hold every connection until the deadline (THREATS F13, J4); and
 * after a failed send glibc reconnects to /dev/log by path, which after
 * chroot is the jail's /dev/log (A10). Here the socket is connected once,
 * before the jail, never reconnected, and a send waits a bounded time. */
static int log_fd = -1;
static int log_stream;            /* connected with SOCK_STREAM: end each message with NUL */
static int log_stderr;            /* stderr is a terminal: copy there too */
static int log_stalled;           /* a send already timed out: do not wait again */
static const char *log_ident = "virtuald";

#define VH_LOG_WAIT_MS 1000       /* the longest one process waits for the daemon, once */

static int connect_log(int type)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", _PATH_LOG);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

void vh_log_open(const char *ident)
{
    log_ident = ident;
    log_stderr = isatty(2);
    /* tzset now: the logger must never read the jail's /etc/localtime. */
    tzset();
    if (log_fd >= 0)
        return;
    log_fd = connect_log(SOCK_DGRAM);
    if (log_fd < 0 && errno == EPROTOTYPE) {
        log_fd = connect_log(SOCK_STREAM);
        log_stream = log_fd >= 0;
    }
    /* No /dev/log: refusals are still refusals, only unlogged (F13). */
}

void vh_log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
}

static void send_bounded(const char *buf, size_t len)
{
    for (int tries = 0; tries < 2; tries++) {
        if (send(log_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
            return;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || log_stalled)
            return;
        struct pollfd p = {.fd = log_fd, .events = POLLOUT};
        if (poll(&p, 1, VH_LOG_WAIT_MS) <= 0) {
            log_stalled = 1; /* the daemon is not reading: drop, never block */
            return;
        }
    }
}

void vh_log(int prio, const char *fmt, ...)
{
    char msg[3072], line[3300], stamp[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_stderr)
        dprintf(2, "%s: %s\n", log_ident, msg);
    if (log_fd < 0)
        return;
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm))
        snprintf(stamp, sizeof stamp, "Jan  1 00:00:00");
    int n = snprintf(line, sizeof line, "<%d>%s %s[%d]: %s", LOG_DAEMON | (prio & LOG_PRIMASK), stamp, log_ident,
                     (int)getpid(), msg);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    send_bounded(line, len + (log_stream ? 1 : 0));
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
