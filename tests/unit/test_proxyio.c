/* proxyio: reading exactly a PROXY header off a real loopback TCP
 * connection (fleet.md 1.2; THREATS L2 slow or split headers, L3 never a
 * byte of the service's, L6 SO_RCVLOWAT given back, L7 a second header),
 * and peeking a TLS ClientHello (fleet.md 2.2-2.7, table S3, S5, S7: the
 * socket halves; nothing is ever consumed).
 * Each case makes its own pair: a listener on 127.0.0.1:0, a client
 * connected to it and the accepted end, which is what virtuald reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "proxyio.h"
#include "tls_captures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* v2 PROXY TCP4 127.0.0.9:40000 -> 127.0.0.3:80, no TLV: 28 bytes */
static const unsigned char v2_hdr[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
                                       0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 127,  0,    0,    9,
                                       127,  0,    0,    3,    0x9c, 0x40, 0x00, 0x50};
static const char v1_hdr[] = "PROXY TCP4 127.0.0.9 127.0.0.3 40000 80\r\n";

/* poll is wrapped (-Wl,--wrap=poll): every call virtuald's reader makes
 * is counted, so that a busy loop shows as many calls whatever the
 * machine's load (CPU time alone would hide it on a busy machine). */
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real___poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __wrap___poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
static int polls;
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    polls++;
    return __real_poll(fds, n, timeout);
}
/* the name a _FORTIFY_SOURCE build calls (the sanitizer build's) */
int __wrap___poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    polls++;
    return __real___poll_chk(fds, n, timeout, fdslen);
}

/* the server end in *srv, the client end returned */
static int pair(int *srv)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    *srv = accept(l, NULL, NULL);
    assert_true(*srv >= 0);
    close(l);
    return c;
}

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int lowat(int fd)
{
    int v = -1;
    socklen_t vl = sizeof v;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, &vl), 0);
    return v;
}

/* L3: exactly n bytes of want still queued on fd, then EOF */
static void rest_is(int fd, const void *want, size_t n)
{
    static unsigned char got[1 << 16];
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(fd, got + have, sizeof got - have, 0);
        assert_true(r >= 0);
        if (r == 0)
            break;
        have += (size_t)r;
    }
    assert_int_equal(have, n);
    assert_memory_equal(got, want, n);
}

/* a child writes the pieces of buf cut at cuts[] (gap ms apart), then
 * waits fin_ms and half-closes (fin_ms < 0: never, until killed) */
static pid_t writer(int c, const unsigned char *buf, size_t n, const size_t *cuts, size_t ncuts, long gap, long fin_ms)
{
    pid_t p = fork();
    assert_true(p >= 0);
    if (p > 0)
        return p;
    /* never outlive a failed case (it would hold ctest's output open) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(20);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (end > at && send(c, buf + at, end - at, MSG_NOSIGNAL) != (ssize_t)(end - at))
            _exit(1);
        at = end;
        if (i < ncuts)
            msleep(gap);
    }
    if (fin_ms < 0)
        pause();
    msleep(fin_ms);
    shutdown(c, SHUT_WR);
    pause();
    _exit(0);
}

static void reap(pid_t p)
{
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
}

static void test_one_piece(void **state)
{
    (void)state;
    int s, c = pair(&s);
    unsigned char buf[sizeof v2_hdr + 5];
    memcpy(buf, v2_hdr, sizeof v2_hdr);
    memcpy(buf + sizeof v2_hdr, "hello", 5);
    assert_int_equal(send(c, buf, sizeof buf, 0), (ssize_t)sizeof buf);
    shutdown(c, SHUT_WR);
    vh_proxy_result r;
    vh_err e = {0, ""};
    polls = 0;
    assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 3000, &r, &e), VH_PROXYIO_HEADER);
    assert_int_equal(polls, 0); /* all queued: the peek and the read only */
    assert_int_equal(r.version, 2);
    assert_int_equal(r.len, sizeof v2_hdr);
    assert_string_equal(r.dst.text, "127.0.0.3");
    assert_string_equal(r.src.text, "127.0.0.9");
    assert_int_equal(lowat(s), 1);
    rest_is(s, "hello", 5); /* L3 */
    close(c);
    close(s);
}

/* L2: v1 and v2 cut before every byte, 10 ms apart (every intermediate
 * length is peeked); then a 32 KiB payload queued in full (L3); the
 * socket's low-water mark is 1 again (L6) */
static void test_split_every_byte(void **state)
{
    (void)state;
    static unsigned char payload[32768];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 7 + 3);
    for (int v = 1; v <= 2; v++) {
        const unsigned char *h = v == 1 ? (const unsigned char *)v1_hdr : v2_hdr;
        size_t hl = v == 1 ? strlen(v1_hdr) : sizeof v2_hdr;
        static unsigned char buf[sizeof payload + 128];
        memcpy(buf, h, hl);
        memcpy(buf + hl, payload, sizeof payload);
        size_t cuts[128];
        for (size_t i = 0; i < hl; i++)
            cuts[i] = i + 1;
        int s, c = pair(&s);
        pid_t p = writer(c, buf, hl + sizeof payload, cuts, hl, 10, 0);
        vh_proxy_result r;
        vh_err e = {0, ""};
        double t0 = now_s(CLOCK_MONOTONIC);
        polls = 0;
        assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 5000, &r, &e), VH_PROXYIO_HEADER);
        /* at most one wait per piece: no spin on what is queued */
        assert_true(polls >= 1 && polls <= (int)hl + 2);
        /* it really waited for the pieces */
        assert_true(now_s(CLOCK_MONOTONIC) - t0 >= (double)(hl - 1) * 0.009);
        assert_int_equal(r.version, v);
        assert_int_equal(r.len, hl);
        assert_string_equal(r.dst.text, "127.0.0.3");
        assert_int_equal(lowat(s), 1);
        rest_is(s, payload, sizeof payload);
        reap(p);
        close(c);
        close(s);
    }
}

/* L2: a header that never completes: 75 at the deadline, SO_RCVLOWAT 1 */
static void test_timeout(void **state)
{
    (void)state;
    int s, c = pair(&s);
    assert_int_equal(send(c, v2_hdr, 10, 0), 10);
    vh_proxy_result r;
    vh_err e = {0, ""};
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    polls = 0;
    assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 300, &r, &e), VH_PROXYIO_REFUSED);
    double dt = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    assert_int_equal(e.code, VH_EX_TEMPFAIL);
    assert_non_null(strstr(e.msg, "within 300 ms"));
    assert_true(dt >= 0.29 && dt < 1.5);
    /* waited in poll, no spin on the peeked bytes */
    assert_true(polls >= 1 && polls <= 3);
    assert_true(cpu < 0.1);
    assert_int_equal(lowat(s), 1);
    /* nothing consumed: the 10 bytes are still queued */
    unsigned char got[16];
    assert_int_equal(recv(s, got, sizeof got, MSG_DONTWAIT), 10);
    close(c);
    close(s);
}

/* a check or a client that left: EOF before any byte is GONE, at once */
static void test_eof_first(void **state)
{
    (void)state;
    int s, c = pair(&s);
    shutdown(c, SHUT_WR);
    vh_proxy_result r;
    vh_err e = {0, ""};
    double t0 = now_s(CLOCK_MONOTONIC);
    assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 3000, &r, &e), VH_PROXYIO_GONE);
    assert_true(now_s(CLOCK_MONOTONIC) - t0 < 1.0);
    assert_int_equal(lowat(s), 1);
    close(c);
    close(s);
}

/* EOF while waiting (nothing sent, FIN 200 ms later): GONE, in poll */
static void test_eof_while_waiting(void **state)
{
    (void)state;
    int s, c = pair(&s);
    pid_t p = writer(c, v2_hdr, 0, NULL, 0, 0, 200);
    vh_proxy_result r;
    vh_err e = {0, ""};
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    polls = 0;
    assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 3000, &r, &e), VH_PROXYIO_GONE);
    double dt = now_s(CLOCK_MONOTONIC) - t0;
    assert_true(dt >= 0.15 && dt < 2.0);
    assert_true(polls >= 1 && polls <= 3);
    assert_true(now_s(CLOCK_PROCESS_CPUTIME_ID) - c0 < 0.1);
    reap(p);
    close(c);
    close(s);
}

/* L2: 10 bytes, then FIN 300 ms later: 76 "truncated" right after the
 * FIN, long before the 5 s deadline, and no busy loop meanwhile (the
 * peeked bytes stay queued: poll alone would return at once, forever) */
static void test_truncated_fin(void **state)
{
    (void)state;
    int s, c = pair(&s);
    size_t cut = 10;
    pid_t p = writer(c, v2_hdr, 10, &cut, 0, 0, 300);
    msleep(50); /* the 10 bytes are there before virtuald looks */
    vh_proxy_result r;
    vh_err e = {0, ""};
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    polls = 0;
    assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 5000, &r, &e), VH_PROXYIO_REFUSED);
    double dt = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "truncated PROXY header"));
    assert_non_null(strstr(e.msg, "10 of 16 bytes"));
    /* at the FIN, long before the 5 s deadline, after one or two polls */
    assert_true(dt >= 0.2 && dt < 2.0);
    assert_true(polls >= 1 && polls <= 3);
    assert_true(cpu < 0.1);
    assert_int_equal(lowat(s), 1);
    reap(p);
    close(c);
    close(s);
}

/* L7: two headers back to back: 76, and neither is consumed */
static void test_second_header(void **state)
{
    (void)state;
    for (int v = 1; v <= 2; v++) {
        int s, c = pair(&s);
        unsigned char buf[256];
        size_t n = 0;
        for (int i = 0; i < 2; i++) {
            if (v == 1) {
                memcpy(buf + n, v1_hdr, strlen(v1_hdr));
                n += strlen(v1_hdr);
            } else {
                memcpy(buf + n, v2_hdr, sizeof v2_hdr);
                n += sizeof v2_hdr;
            }
        }
        memcpy(buf + n, "data", 4);
        n += 4;
        assert_int_equal(send(c, buf, n, 0), (ssize_t)n);
        shutdown(c, SHUT_WR);
        msleep(20);
        vh_proxy_result r;
        vh_err e = {0, ""};
        assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 3000, &r, &e), VH_PROXYIO_REFUSED);
        assert_int_equal(e.code, VH_EX_PROTOCOL);
        assert_non_null(strstr(e.msg, "second PROXY header"));
        rest_is(s, buf, n);
        close(c);
        close(s);
    }
}

/* a source trusted for one version only */
static void test_version_not_allowed(void **state)
{
    (void)state;
    for (int v = 1; v <= 2; v++) {
        int s, c = pair(&s);
        if (v == 1)
            assert_int_equal(send(c, v1_hdr, strlen(v1_hdr), 0), (ssize_t)strlen(v1_hdr));
        else
            assert_int_equal(send(c, v2_hdr, sizeof v2_hdr, 0), (ssize_t)sizeof v2_hdr);
        shutdown(c, SHUT_WR);
        msleep(20);
        vh_proxy_result r;
        vh_err e = {0, ""};
        /* v1 to a v2-only source, v2 to a v1-only source */
        assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", v == 1 ? 2 : 1, 3000, &r, &e), VH_PROXYIO_REFUSED);
        assert_int_equal(e.code, VH_EX_PROTOCOL);
        assert_non_null(strstr(e.msg, "trusted for v"));
        close(c);
        close(s);
    }
}

/* L1 at the trusted end: ordinary data from a trusted balancer, and a
 * malformed header: 76, nothing consumed */
static void test_not_a_header(void **state)
{
    (void)state;
    static const char *inputs[] = {"GET / HTTP/1.0\r\n\r\n", "PROXY TCP4 127.0.0.9 127.0.0.3 040000 80\r\nxx"};
    static const char *why[] = {"sent no PROXY header", "bad PROXY v1 header"};
    for (int i = 0; i < 2; i++) {
        int s, c = pair(&s);
        size_t n = strlen(inputs[i]);
        assert_int_equal(send(c, inputs[i], n, 0), (ssize_t)n);
        shutdown(c, SHUT_WR);
        msleep(20);
        vh_proxy_result r;
        vh_err e = {0, ""};
        assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 3000, &r, &e), VH_PROXYIO_REFUSED);
        assert_int_equal(e.code, VH_EX_PROTOCOL);
        assert_non_null(strstr(e.msg, why[i]));
        rest_is(s, inputs[i], n);
        close(c);
        close(s);
    }
}

/* L1: the untrusted peer's one peek: a queued header is seen, ordinary
 * data and nothing yet are not, and nothing is consumed */
static void test_untrusted_peek(void **state)
{
    (void)state;
    int s, c = pair(&s);
    assert_int_equal(vh_proxyio_untrusted_peek(s), 0); /* nothing queued: no wait */
    assert_int_equal(send(c, v2_hdr, sizeof v2_hdr, 0), (ssize_t)sizeof v2_hdr);
    msleep(20);
    assert_int_equal(vh_proxyio_untrusted_peek(s), 1);
    shutdown(c, SHUT_WR);
    rest_is(s, v2_hdr, sizeof v2_hdr);
    close(c);
    close(s);
    s = -1;
    c = pair(&s);
    assert_int_equal(send(c, "PROXY TCP4 ", 11, 0), 11);
    msleep(20);
    assert_int_equal(vh_proxyio_untrusted_peek(s), 1);
    close(c);
    close(s);
    c = pair(&s);
    assert_int_equal(send(c, "GET / HTTP/1.0\r\n", 16, 0), 16);
    msleep(20);
    assert_int_equal(vh_proxyio_untrusted_peek(s), 0);
    shutdown(c, SHUT_WR);
    rest_is(s, "GET / HTTP/1.0\r\n", 16);
    close(c);
    close(s);
}

/* ---- the ClientHello peek (issue 17) ------------------------------- */

static vh_tlsio_outcome tls_peek(int s, int timeout_ms, vh_tls_result *r, vh_err *e)
{
    e->code = 0;
    e->msg[0] = '\0';
    polls = 0;
    return vh_tlsio_peek(s, "127.0.0.1:1", timeout_ms, r, e);
}

/* S1's socket half, L3: a hello queued whole, with bytes behind it: its
 * name, no wait, and every byte still queued for the service */
static void test_tls_one_piece(void **state)
{
    (void)state;
    int s, c = pair(&s);
    static unsigned char buf[sizeof openssl_hello + 4];
    memcpy(buf, openssl_hello, sizeof openssl_hello);
    memcpy(buf + sizeof openssl_hello, "0rtt", 4);
    assert_int_equal(send(c, buf, sizeof buf, 0), (ssize_t)sizeof buf);
    shutdown(c, SHUT_WR);
    vh_tls_result r;
    vh_err e;
    assert_int_equal(tls_peek(s, 3000, &r, &e), VH_TLSIO_HELLO);
    assert_int_equal(polls, 0);
    assert_string_equal(r.name, "a.example.test");
    assert_int_equal(lowat(s), 1);
    rest_is(s, buf, sizeof buf);
    close(c);
    close(s);
}

/* S3, L2: OpenSSL's 2-record hello cut at the offsets of table S3 (in
 * the record header, the handshake header, the middle, the second
 * record's header, the last byte), 20 ms apart: waited for, never a
 * spin, the name, and every byte still queued (L3) with SO_RCVLOWAT 1 (L6) */
static void test_tls_split(void **state)
{
    (void)state;
    size_t cuts[] = {1, 5, 6, 9, 43, 300, 512, 517, 600, sizeof split2_hello - 1};
    size_t ncuts = sizeof cuts / sizeof cuts[0];
    int s, c = pair(&s);
    pid_t p = writer(c, split2_hello, sizeof split2_hello, cuts, ncuts, 20, 0);
    vh_tls_result r;
    vh_err e;
    double t0 = now_s(CLOCK_MONOTONIC);
    assert_int_equal(tls_peek(s, 5000, &r, &e), VH_TLSIO_HELLO);
    assert_true(polls >= 1 && polls <= (int)ncuts + 2);
    assert_true(now_s(CLOCK_MONOTONIC) - t0 >= (double)ncuts * 0.018);
    assert_string_equal(r.name, "a.example.test");
    assert_int_equal(r.records, 2);
    assert_int_equal(lowat(s), 1);
    rest_is(s, split2_hello, sizeof split2_hello);
    reap(p);
    close(c);
    close(s);
}

/* S7, L2: half a hello and a stall; nothing at all: 75 at the deadline,
 * no spin, the bytes still queued */
static void test_tls_timeout(void **state)
{
    (void)state;
    for (int half = 1; half >= 0; half--) {
        int s, c = pair(&s);
        if (half)
            assert_int_equal(send(c, openssl_hello, 100, 0), 100);
        vh_tls_result r;
        vh_err e;
        double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        assert_int_equal(tls_peek(s, 300, &r, &e), VH_TLSIO_REFUSED);
        double dt = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        assert_int_equal(e.code, VH_EX_TEMPFAIL);
        assert_non_null(strstr(e.msg, "no complete TLS ClientHello"));
        assert_true(dt >= 0.29 && dt < 1.5);
        assert_true(polls >= 1 && polls <= 3);
        assert_true(cpu < 0.1);
        assert_int_equal(lowat(s), 1);
        unsigned char got[128];
        assert_int_equal(recv(s, got, sizeof got, MSG_DONTWAIT), half ? 100 : -1);
        close(c);
        close(s);
    }
}

/* S5: plain HTTP to the TLS port: no name at its first byte (one byte
 * is enough, it never waits for five), every byte left for the service */
static void test_tls_not_tls(void **state)
{
    (void)state;
    int s, c = pair(&s);
    pid_t p = writer(c, (const unsigned char *)"GET / HTTP/1.0\r\n\r\n", 18, (size_t[]){1}, 1, 1000, 0);
    msleep(50); /* "G" alone is queued */
    vh_tls_result r;
    vh_err e;
    double t0 = now_s(CLOCK_MONOTONIC);
    assert_int_equal(tls_peek(s, 3000, &r, &e), VH_TLSIO_NOT_TLS);
    assert_true(now_s(CLOCK_MONOTONIC) - t0 < 0.5);
    assert_int_equal(lowat(s), 1);
    rest_is(s, "GET / HTTP/1.0\r\n\r\n", 18);
    reap(p);
    close(c);
    close(s);
}

/* S7: EOF before any byte: GONE at once; a hello cut by a FIN: 76 at the
 * FIN, long before the deadline */
static void test_tls_eof(void **state)
{
    (void)state;
    int s, c = pair(&s);
    shutdown(c, SHUT_WR);
    vh_tls_result r;
    vh_err e;
    assert_int_equal(tls_peek(s, 3000, &r, &e), VH_TLSIO_GONE);
    close(c);
    close(s);
    c = pair(&s);
    size_t cut = 100;
    pid_t p = writer(c, openssl_hello, 100, &cut, 0, 0, 300);
    double t0 = now_s(CLOCK_MONOTONIC);
    assert_int_equal(tls_peek(s, 5000, &r, &e), VH_TLSIO_REFUSED);
    double dt = now_s(CLOCK_MONOTONIC) - t0;
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "cut off after 100 of"));
    assert_true(dt >= 0.2 && dt < 2.0);
    assert_true(polls >= 1 && polls <= 3);
    assert_int_equal(lowat(s), 1);
    reap(p);
    close(c);
    close(s);
}

/* S6's socket half, L4: a malformed hello refused (76) with its rule,
 * nothing consumed */
static void test_tls_refused(void **state)
{
    (void)state;
    int s, c = pair(&s);
    static unsigned char bad[sizeof openssl_hello];
    memcpy(bad, openssl_hello, sizeof bad);
    bad[1] = 0x02; /* record version 0x0201 */
    assert_int_equal(send(c, bad, sizeof bad, 0), (ssize_t)sizeof bad);
    vh_tls_result r;
    vh_err e;
    assert_int_equal(tls_peek(s, 3000, &r, &e), VH_TLSIO_REFUSED);
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "bad TLS ClientHello"));
    assert_int_equal(polls, 0);
    unsigned char got[sizeof bad];
    assert_int_equal(recv(s, got, sizeof got, MSG_DONTWAIT), (ssize_t)sizeof bad);
    close(c);
    close(s);
}

/* L2 (red team): TCP urgent data (MSG_OOB) inside a ClientHello. A peek
 * stops at the urgent mark while poll counts the bytes past it, so the
 * peek sees a hello that never grows although poll says enough is
 * queued: it must be refused at once (76), not spun on until the
 * deadline. Nothing consumed (L3), SO_RCVLOWAT 1 again (L6). The
 * control: an urgent byte after a whole hello, which the peek reads in
 * full, is served. */
static void test_tls_urgent(void **state)
{
    (void)state;
    int s, c = pair(&s);
    assert_int_equal(send(c, openssl_hello, 100, 0), 100);
    assert_int_equal(send(c, "U", 1, MSG_OOB), 1);
    assert_int_equal(send(c, openssl_hello + 100, sizeof openssl_hello - 100, 0),
                     (ssize_t)(sizeof openssl_hello - 100));
    msleep(50); /* the client stays: no FIN to end the wait */
    vh_tls_result r;
    vh_err e;
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    assert_int_equal(tls_peek(s, 1000, &r, &e), VH_TLSIO_REFUSED);
    double dt = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "urgent"));
    assert_true(polls <= 3);
    assert_true(dt < 0.5);
    assert_true(cpu < 0.1);
    assert_int_equal(lowat(s), 1);
    shutdown(c, SHUT_WR);
    rest_is(s, openssl_hello, sizeof openssl_hello); /* the urgent byte is out of band */
    close(c);
    close(s);
    /* an urgent byte alone, the client staying: the peek skips it and
     * sees nothing, poll sees a byte */
    c = pair(&s);
    assert_int_equal(send(c, "U", 1, MSG_OOB), 1);
    msleep(50);
    c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    assert_int_equal(tls_peek(s, 1000, &r, &e), VH_TLSIO_REFUSED);
    cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "urgent"));
    assert_true(polls <= 3);
    assert_true(cpu < 0.1);
    assert_int_equal(lowat(s), 1);
    close(c);
    close(s);
    /* control: the urgent byte after the whole hello */
    c = pair(&s);
    assert_int_equal(send(c, openssl_hello, sizeof openssl_hello, 0), (ssize_t)sizeof openssl_hello);
    assert_int_equal(send(c, "U", 1, MSG_OOB), 1);
    shutdown(c, SHUT_WR);
    msleep(50);
    polls = 0;
    assert_int_equal(tls_peek(s, 1000, &r, &e), VH_TLSIO_HELLO);
    assert_string_equal(r.name, "a.example.test");
    assert_int_equal(polls, 0);
    assert_int_equal(lowat(s), 1);
    rest_is(s, openssl_hello, sizeof openssl_hello);
    close(c);
    close(s);
}

/* The same for a PROXY header from a trusted balancer: urgent data
 * inside it is refused at once, never spun on. */
static void test_urgent_header(void **state)
{
    (void)state;
    int s, c = pair(&s);
    assert_int_equal(send(c, v2_hdr, 10, 0), 10);
    assert_int_equal(send(c, "U", 1, MSG_OOB), 1);
    assert_int_equal(send(c, v2_hdr + 10, sizeof v2_hdr - 10, 0), (ssize_t)(sizeof v2_hdr - 10));
    msleep(50);
    vh_proxy_result r;
    vh_err e = {0, ""};
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    polls = 0;
    assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 1000, &r, &e), VH_PROXYIO_REFUSED);
    double dt = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "urgent"));
    assert_true(polls <= 3);
    assert_true(dt < 0.5);
    assert_true(cpu < 0.1);
    assert_int_equal(lowat(s), 1);
    unsigned char got[64];
    assert_int_equal(recv(s, got, sizeof got, MSG_DONTWAIT), 10); /* up to the mark: nothing consumed */
    close(c);
    close(s);
    /* an urgent byte alone */
    c = pair(&s);
    assert_int_equal(send(c, "U", 1, MSG_OOB), 1);
    msleep(50);
    c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    polls = 0;
    assert_int_equal(vh_proxyio_read(s, "127.0.0.1:1", 3, 1000, &r, &e), VH_PROXYIO_REFUSED);
    cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    assert_int_equal(e.code, VH_EX_PROTOCOL);
    assert_non_null(strstr(e.msg, "urgent"));
    assert_true(polls <= 3);
    assert_true(cpu < 0.1);
    assert_int_equal(lowat(s), 1);
    close(c);
    close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_piece),         cmocka_unit_test(test_split_every_byte),
        cmocka_unit_test(test_timeout),           cmocka_unit_test(test_eof_first),
        cmocka_unit_test(test_eof_while_waiting), cmocka_unit_test(test_truncated_fin),
        cmocka_unit_test(test_second_header),     cmocka_unit_test(test_version_not_allowed),
        cmocka_unit_test(test_not_a_header),      cmocka_unit_test(test_untrusted_peek),
        cmocka_unit_test(test_tls_one_piece),     cmocka_unit_test(test_tls_split),
        cmocka_unit_test(test_tls_timeout),       cmocka_unit_test(test_tls_not_tls),
        cmocka_unit_test(test_tls_eof),           cmocka_unit_test(test_tls_refused),
        cmocka_unit_test(test_tls_urgent),        cmocka_unit_test(test_urgent_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
