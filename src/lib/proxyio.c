#include "proxyio.h"

#include "exitcodes.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO */
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One peek of what is queued, never waiting. Bytes (0 when nothing is
 * queued yet), -1 at EOF, -2 on a reset or another error (errno). */
static ssize_t peek(int fd, unsigned char *buf, size_t cap)
{
    ssize_t n = recv(fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return n;
    if (n == 0)
        return -1;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -2;
}

static int set_lowat(int fd, int v)
{
    return setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
}

/* Put SO_RCVLOWAT back to 1 if it was changed. 0, or -1 with e. */
static int restore_lowat(int fd, int lowat, vh_err *e)
{
    if (lowat == 1)
        return 0;
    int v = 0;
    socklen_t vl = sizeof v;
    if (set_lowat(fd, 1) < 0 || getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, &vl) < 0 || v != 1)
        return vh_fail(e, VH_EX_OSERR, "cannot restore SO_RCVLOWAT to 1 on the connection: %s", strerror(errno));
    return 0;
}

/* What one wait for more bytes ended with. */
enum wait_end {
    WAIT_AGAIN,   /* peek again */
    WAIT_TIMEOUT, /* the deadline passed before the wait (the caller says what was missing) */
    WAIT_ERROR,   /* e filled */
    WAIT_HANGUP,  /* the peer closed or reset: what is queued now is all there will be */
};

/* Wait, until deadline, for need bytes to be queued on fd: SO_RCVLOWAT
 * raised to need (*lowat: its value now), so that poll reports POLLIN
 * only then and never spins on bytes already peeked. *urgent set when
 * poll saw TCP urgent data (POLLPRI): a peek stops at its mark while
 * poll counts past it, so the caller refuses rather than peek again. */
static enum wait_end wait_more(int fd, size_t need, long long deadline, int *lowat, int *urgent, vh_err *e)
{
    long long left = deadline - now_ms();
    if (left <= 0)
        return WAIT_TIMEOUT;
    if ((int)need != *lowat) {
        if (set_lowat(fd, (int)need) < 0) {
            vh_fail(e, VH_EX_OSERR, "setsockopt(SO_RCVLOWAT, %zu): %s", need, strerror(errno));
            return WAIT_ERROR;
        }
        *lowat = (int)need;
    }
    struct pollfd p = {fd, POLLIN | POLLPRI | POLLRDHUP, 0};
    int pr = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
    if (pr < 0 && errno != EINTR) {
        vh_fail(e, VH_EX_OSERR, "poll: %s", strerror(errno));
        return WAIT_ERROR;
    }
    if (pr > 0 && (p.revents & POLLPRI))
        *urgent = 1;
    /* poll reports an end as POLLIN too, whatever the low-water mark */
    if (pr > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
        return WAIT_HANGUP;
    return WAIT_AGAIN;
}

vh_proxyio_outcome vh_proxyio_read(int fd, const char *peer, int versions, int timeout_ms, vh_proxy_result *r,
                                   vh_err *e)
{
    static unsigned char buf[VH_PROXY_PEEK_MAX];
    long long deadline = now_ms() + timeout_ms;
    size_t need = VH_PROXY_V2_FIXED, have = 0;
    int lowat = 1;  /* what SO_RCVLOWAT is now; restored to 1 before leaving */
    int urgent = 0; /* poll saw TCP urgent data (see vh_tlsio_peek) */
    vh_proxyio_outcome out = VH_PROXYIO_REFUSED;
    for (;;) {
        ssize_t n = peek(fd, buf, sizeof buf);
        if (n < 0) {
            /* EOF or reset: quiet before any byte, else a cut header */
            if (have == 0) {
                out = VH_PROXYIO_GONE;
            } else {
                vh_fail(e, VH_EX_PROTOCOL,
                        "truncated PROXY header from trusted balancer %s (%zu of %zu bytes, peer %s)", peer, have, need,
                        n == -1 ? "closed" : "reset");
            }
            goto restore;
        }
        have = (size_t)n;
        if (have > 0) {
            vh_proxy_status st = vh_proxy_parse(buf, have, r);
            if (st == VH_PROXY_REFUSED) {
                if (r->reason == VH_PROXY_R_NOT_PROXY)
                    vh_fail(e, VH_EX_PROTOCOL,
                            "trusted balancer %s sent no PROXY header - a trusted source must send one "
                            "(send-proxy or send-proxy-v2); remove it with vhostctl proxy-trust remove if it cannot",
                            peer);
                else
                    vh_fail(e, VH_EX_PROTOCOL, "bad PROXY v%d header from trusted balancer %s: %s", r->version, peer,
                            vh_proxy_reason_text(r->reason));
                goto restore;
            }
            if (r->version && !(versions & (1 << (r->version - 1)))) {
                vh_fail(e, VH_EX_PROTOCOL,
                        "PROXY v%d header from balancer %s, which is trusted for v%s only - change its "
                        "proxy-trust --versions or the balancer's send-proxy setting",
                        r->version, peer, versions == 1 ? "1" : "2");
                goto restore;
            }
            if (st == VH_PROXY_DONE) {
                if (have > r->len && vh_proxy_looks_like_header(buf + r->len, have - r->len)) {
                    vh_fail(e, VH_EX_PROTOCOL,
                            "second PROXY header from balancer %s - only one balancer in front may send one", peer);
                    goto restore;
                }
                out = VH_PROXYIO_HEADER;
                break;
            }
            need = r->len; /* NEED: never more than the header */
        }
        if (urgent) {
            vh_fail(e, VH_EX_PROTOCOL,
                    "TCP urgent data inside the PROXY header from trusted balancer %s (%zu of %zu bytes before it) - "
                    "a balancer sends none",
                    peer, have, need);
            goto restore;
        }
        enum wait_end w = wait_more(fd, need, deadline, &lowat, &urgent, e);
        if (w == WAIT_TIMEOUT) {
            vh_fail(e, VH_EX_TEMPFAIL, "no complete PROXY header from balancer %s within %d ms (%zu of %zu bytes)",
                    peer, timeout_ms, have, need);
            goto restore;
        }
        if (w == WAIT_ERROR)
            goto restore;
        if (w == WAIT_HANGUP) {
            /* a peek never returns 0 while bytes are queued, so look once
             * more; what is there now is all there will be */
            n = peek(fd, buf, sizeof buf);
            if (n >= 0 && (size_t)n < need) {
                if (n == 0 && have == 0) {
                    out = VH_PROXYIO_GONE;
                    goto restore;
                }
                vh_fail(e, VH_EX_PROTOCOL,
                        "truncated PROXY header from trusted balancer %s (%zd of %zu bytes, peer closed)", peer, n,
                        need);
                goto restore;
            }
        }
    }
restore:
    if (restore_lowat(fd, lowat, e) < 0)
        return VH_PROXYIO_REFUSED;
    if (out != VH_PROXYIO_HEADER)
        return out;
    /* The bytes are queued already: exactly the header's length. */
    ssize_t got = recv(fd, buf, r->len, MSG_WAITALL | MSG_DONTWAIT);
    if (got != (ssize_t)r->len) {
        vh_fail(e, VH_EX_PROTOCOL, "could not consume the PROXY header from %s (%zd of %zu bytes)", peer, got, r->len);
        return VH_PROXYIO_REFUSED;
    }
    return VH_PROXYIO_HEADER;
}

int vh_proxyio_untrusted_peek(int fd)
{
    unsigned char buf[VH_PROXY_V2_SIG_LEN + 2];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 && vh_proxy_looks_like_header(buf, (size_t)n);
}

vh_tlsio_outcome vh_tlsio_peek(int fd, const char *peer, int timeout_ms, vh_tls_result *r, vh_err *e)
{
    static unsigned char buf[VH_TLS_PEEK_MAX];
    long long deadline = now_ms() + timeout_ms;
    size_t have = 0, need = 1; /* the first byte tells TLS from anything else */
    int lowat = 1;
    /* TCP urgent data (MSG_OOB): a peek stops at its mark, while poll
     * and SO_RCVLOWAT count the bytes past it; a message still cut
     * short once poll reported it would be peeked again and again
     * without progress, a busy loop until the deadline. Refused. */
    int urgent = 0;
    vh_tlsio_outcome out = VH_TLSIO_REFUSED;
    memset(r, 0, sizeof *r);
    for (;;) {
        ssize_t n = peek(fd, buf, sizeof buf);
        if (n < 0) {
            if (have == 0)
                out = VH_TLSIO_GONE;
            else
                vh_fail(e, VH_EX_PROTOCOL, "ClientHello from %s cut off after %zu of %zu bytes (peer %s)", peer, have,
                        need, n == -1 ? "closed" : "reset");
            break;
        }
        have = (size_t)n;
        if (have > 0) {
            vh_tls_status st = vh_tls_parse(buf, have, r);
            if (st == VH_TLS_NOT_TLS) {
                out = VH_TLSIO_NOT_TLS;
                break;
            }
            if (st == VH_TLS_DONE) {
                out = VH_TLSIO_HELLO;
                break;
            }
            if (st == VH_TLS_REFUSED) {
                vh_fail(e, VH_EX_PROTOCOL, "bad TLS ClientHello from %s: %s", peer, vh_tls_reason_text(r->reason));
                break;
            }
            need = r->len; /* NEED: never past the ClientHello's records */
        }
        if (urgent) {
            vh_fail(e, VH_EX_PROTOCOL,
                    "TCP urgent data inside the ClientHello from %s (%zu of %zu bytes before it) - TLS clients send "
                    "none",
                    peer, have, need);
            break;
        }
        /* the peek buffer holds any ClientHello; need never exceeds it */
        if (need > sizeof buf)
            need = sizeof buf;
        enum wait_end w = wait_more(fd, need, deadline, &lowat, &urgent, e);
        if (w == WAIT_TIMEOUT) {
            vh_fail(e, VH_EX_TEMPFAIL, "no complete TLS ClientHello from %s within %d ms (%zu of %zu bytes)", peer,
                    timeout_ms, have, need);
            break;
        }
        if (w == WAIT_ERROR)
            break;
        if (w == WAIT_HANGUP) {
            /* the peer closed or reset: what is queued is all there will
             * be; one more parse decides (as in vh_proxyio_read) */
            n = peek(fd, buf, sizeof buf);
            if (n >= 0 && (size_t)n < need) {
                if (n == 0 && have == 0) {
                    out = VH_TLSIO_GONE;
                    break;
                }
                if (n > 0 && vh_tls_parse(buf, (size_t)n, r) == VH_TLS_NOT_TLS) {
                    out = VH_TLSIO_NOT_TLS;
                    break;
                }
                vh_fail(e, VH_EX_PROTOCOL, "ClientHello from %s cut off after %zd of %zu bytes (peer closed)", peer, n,
                        need);
                break;
            }
        }
    }
    if (restore_lowat(fd, lowat, e) < 0)
        return VH_TLSIO_REFUSED;
    return out;
}
