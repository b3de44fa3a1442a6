/* loadgen - the benchmark's HTTP/1.0 client.
 *
 *   loadgen -a ADDRESS -p PORT -e TEXT [-s STATUS] [-c CONC] [-n COUNT | -t SECONDS] [-w WARMUP]
 *           [-x [-D FILE [-O FIRST]]] [-H]
 *
 * CONC threads each loop: connect, send "GET / HTTP/1.0\r\n\r\n", read
 * the whole reply until the server closes, check its status is STATUS
 * (200 unless -s) with a body that contains TEXT (the page that only the
 * right jail holds). Stops after COUNT connections in all, or after
 * SECONDS. Prints one line of key=value pairs:
 *
 *   ok=N fail=N secs=S rate=R
 *
 * rate is successful connections per second of wall-clock time. Exit
 * status 0 when every reply was right, 1 when any failed, 64 on usage.
 * The first failure's reason goes to stderr. WARMUP connections per
 * thread are made first and not counted (page cache, inetd's first fork).
 *
 * What precedes the request, in the same write and in this order:
 *
 * -x: each connection is a balancer's (issue 15): a fixed PROXY protocol
 * v2 header as HAProxy 2.6 sends it with "send-proxy-v2 proxy-v2-options
 * crc32c": command PROXY, TCP over the target's family, source 192.0.2.10
 * (2001:db8::10) port 40000, destination ADDRESS and PORT, one CRC32C
 * TLV over the header.
 *
 * -D FILE (with -x, not with -H): the destination in the header is not
 * ADDRESS but the next of the IPv4 addresses in FILE (one per line, up to
 * 65536), in turn over all connections, and a reply is right only when
 * its body holds that address as well as TEXT: each address a domain
 * with a jail of its own whose page names it, one listening socket
 * serving them all (issue 14: a thousand jails from one base). -O FIRST:
 * the first connection takes the FIRST-th address (counted from 0,
 * modulo their number), so that runs one after another can go on where
 * the last one stopped.
 *
 * -H: each connection is a TLS client's (issue 17): a fixed ClientHello
 * (server_name www.example.test, TLS 1.3, 322 bytes in one record) as
 * OpenSSL 3.0.19 sends it - captured once with a listener that only
 * records, on loopback,
 *   socat -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr OPEN:hello.bin,creat
 * and `openssl s_client -connect 127.0.0.1:PORT -servername
 * www.example.test` against it (as tests/unit/test_tls.c's vectors). No
 * handshake follows: the request comes next, so a server that reads the
 * bytes as HTTP gets a first line of binary bytes that names no method
 * (busybox httpd answers 400 Bad Request: hence -s). With -x as well, the
 * hello follows the PROXY header, as behind HAProxy's TLS passthrough.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define REPLY_MAX 65536

static struct sockaddr_storage target;
static socklen_t target_len;
static const char *expect;
static int expect_status = 200;
static long count_limit;  /* 0: by time */
static double time_limit; /* seconds; 0: by count */
static int warmup;
static atomic_long started, ok, failed;
static atomic_int stop;
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static int first_reported;
/* what each connection writes: the PROXY header (-x), the ClientHello
 * (-H), then "GET / HTTP/1.0\r\n\r\n" */
static unsigned char request[1024];
static size_t request_len;
/* -D: one request per destination, taken in turn */
#define MAX_DESTS 65536
static unsigned char (*dest_requests)[64];
static size_t *dest_lens;
static char (*dest_text)[INET_ADDRSTRLEN];
static size_t n_dests;
static atomic_ulong next_dest;

/* -H: openssl s_client -servername www.example.test (see the header) */
static const unsigned char tls_hello[322] = {
    0x16, 0x03, 0x01, 0x01, 0x3d, 0x01, 0x00, 0x01, 0x39, 0x03, 0x03, 0x06, 0x0a, 0x09, 0x7e, 0xa4, 0x37, 0xd8, 0xd5,
    0xd0, 0x79, 0x25, 0x23, 0x8e, 0x76, 0x2f, 0x81, 0x5b, 0xe1, 0x90, 0x24, 0xdd, 0x61, 0xa2, 0x63, 0xb2, 0x8b, 0xf5,
    0xdd, 0x2c, 0xd0, 0x42, 0xa6, 0x20, 0x09, 0x01, 0x3e, 0x66, 0xa3, 0xee, 0x59, 0x87, 0xbc, 0xcf, 0xec, 0x3e, 0x50,
    0x2c, 0x2b, 0x22, 0x8f, 0xe6, 0x68, 0x6e, 0x80, 0x48, 0x72, 0xf9, 0x3e, 0x20, 0x0e, 0xa2, 0xde, 0xc2, 0x14, 0xe7,
    0x00, 0x3e, 0x13, 0x02, 0x13, 0x03, 0x13, 0x01, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc,
    0xaa, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b, 0xc0, 0x23, 0xc0, 0x27, 0x00, 0x67,
    0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d, 0x00, 0x9c, 0x00, 0x3d, 0x00,
    0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xb2, 0x00, 0x00, 0x00, 0x15, 0x00, 0x13, 0x00, 0x00,
    0x10, 0x77, 0x77, 0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x00, 0x0b,
    0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00,
    0x19, 0x00, 0x18, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00, 0x00, 0x16,
    0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08,
    0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01,
    0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08,
    0x03, 0x04, 0x03, 0x03, 0x03, 0x02, 0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00,
    0x24, 0x00, 0x1d, 0x00, 0x20, 0x81, 0x1e, 0xdc, 0x86, 0xe6, 0xf1, 0xb6, 0x48, 0xa4, 0x64, 0x8a, 0x41, 0x8e, 0x18,
    0x5f, 0x92, 0xf5, 0xed, 0x6d, 0x6b, 0x78, 0x43, 0x63, 0xe2, 0x02, 0x22, 0x41, 0xb6, 0x40, 0x25, 0x56, 0x5f};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_first(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void report_first(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&first_lock);
    if (!first_reported++) {
        fprintf(stderr, "loadgen: first failure: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
    }
    pthread_mutex_unlock(&first_lock);
}

/* One request. Returns 0 when the reply is right. */
static int one(char *buf)
{
    const unsigned char *req = request;
    size_t req_len = request_len;
    const char *also = NULL;
    if (n_dests) {
        size_t k = atomic_fetch_add(&next_dest, 1) % n_dests;
        req = dest_requests[k], req_len = dest_lens[k], also = dest_text[k];
    }
    int fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        report_first("socket: %s", strerror(errno));
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = -1;
    if (connect(fd, (struct sockaddr *)&target, target_len) < 0) {
        report_first("connect: %s", strerror(errno));
        goto out;
    }
    if (write(fd, req, req_len) != (ssize_t)req_len) {
        report_first("write: %s", strerror(errno));
        goto out;
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, REPLY_MAX - 1 - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            report_first("read: %s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got >= REPLY_MAX - 1) {
            report_first("%s", "reply longer than 64 KiB");
            goto out;
        }
    }
    buf[got] = '\0';
    char status[8];
    snprintf(status, sizeof status, " %d ", expect_status);
    if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, status, strlen(status)) != 0) {
        report_first("not a %d reply: '%.80s'", expect_status,
                     got ? buf : "(empty: the connection was closed without a reply)");
        goto out;
    }
    const char *body = strstr(buf, "\r\n\r\n");
    if (!body || !strstr(body + 4, expect) || (also && !strstr(body + 4, also))) {
        report_first("wrong page%s%s: '%.200s'", also ? " for destination " : "", also ? also : "",
                     body ? body + 4 : buf);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

static void *worker(void *arg)
{
    (void)arg;
    char *buf = malloc(REPLY_MAX);
    if (!buf)
        return NULL;
    for (int i = 0; i < warmup; i++)
        if (one(buf) < 0)
            atomic_fetch_add(&failed, 1);
    return buf;
}

static void *runner(void *arg)
{
    char *buf = arg;
    while (!atomic_load(&stop)) {
        if (count_limit && atomic_fetch_add(&started, 1) >= count_limit)
            break;
        if (one(buf) == 0)
            atomic_fetch_add(&ok, 1);
        else
            atomic_fetch_add(&failed, 1);
    }
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: loadgen -a ADDRESS -p PORT -e TEXT [-s STATUS] [-c CONC] [-n COUNT | -t SECONDS] "
                    "[-w WARMUP] [-x [-D FILE [-O FIRST]]] [-H]\n");
    return 64;
}

/* CRC-32C (Castagnoli, reflected 0x82F63B78), as the PROXY v2 TLV wants */
static uint32_t crc32c(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

/* -x: the fixed PROXY v2 header for the target at p (with destination
 * address dst4 instead when not NULL: -D); its length */
static size_t proxy_v2_header(unsigned char *p, const struct in_addr *dst4)
{
    static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    unsigned char *h = p;
    int v6 = target.ss_family == AF_INET6;
    size_t alen = v6 ? 36 : 12, len = alen + 7; /* addresses, CRC32C TLV */
    memcpy(h, sig, sizeof sig);
    h[12] = 0x21;             /* version 2, PROXY */
    h[13] = v6 ? 0x21 : 0x11; /* TCP over IPv6 / IPv4 */
    h[14] = (unsigned char)(len >> 8), h[15] = (unsigned char)len;
    unsigned char *a = h + 16;
    uint16_t dport;
    if (v6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&target;
        inet_pton(AF_INET6, "2001:db8::10", a);
        memcpy(a + 16, &s6->sin6_addr, 16);
        dport = s6->sin6_port;
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&target;
        inet_pton(AF_INET, "192.0.2.10", a);
        memcpy(a + 4, dst4 ? (const void *)dst4 : (const void *)&s4->sin_addr, 4);
        dport = s4->sin_port;
    }
    uint16_t sport = htons(40000);
    memcpy(a + alen - 4, &sport, 2);
    memcpy(a + alen - 2, &dport, 2);
    unsigned char *t = a + alen;
    t[0] = 0x03, t[1] = 0, t[2] = 4, t[3] = t[4] = t[5] = t[6] = 0; /* PP2_TYPE_CRC32C */
    uint32_t c = crc32c(h, 16 + len);
    t[3] = (unsigned char)(c >> 24), t[4] = (unsigned char)(c >> 16), t[5] = (unsigned char)(c >> 8),
    t[6] = (unsigned char)c;
    return 16 + len;
}

/* the bytes of one connection: what -x and -H put first, then the
 * request */
_Static_assert(sizeof request >= 16 + 43 + sizeof tls_hello + 18, "request[] holds header, hello and request");
static size_t build_request(unsigned char *out, int proxy_v2, const struct in_addr *dst4, int hello)
{
    static const char req[] = "GET / HTTP/1.0\r\n\r\n";
    size_t n = 0;
    if (proxy_v2)
        n += proxy_v2_header(out + n, dst4);
    if (hello) {
        memcpy(out + n, tls_hello, sizeof tls_hello);
        n += sizeof tls_hello;
    }
    memcpy(out + n, req, sizeof req - 1);
    return n + sizeof req - 1;
}

/* -D FILE: every destination's request (an IPv4 PROXY v2 header, 35
 * bytes, and the 18 of the request); 0, or -1 with the reason on stderr */
_Static_assert(sizeof *dest_requests >= 16 + 12 + 7 + 18, "a destination's request fits");
static int load_dests(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "loadgen: %s: %s\n", file, strerror(errno));
        return -1;
    }
    dest_requests = malloc(MAX_DESTS * sizeof *dest_requests);
    dest_lens = malloc(MAX_DESTS * sizeof *dest_lens);
    dest_text = malloc(MAX_DESTS * sizeof *dest_text);
    if (!dest_requests || !dest_lens || !dest_text) {
        fclose(f);
        fprintf(stderr, "loadgen: out of memory\n");
        return -1;
    }
    char line[64];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line)
            continue;
        struct in_addr a;
        if (inet_pton(AF_INET, line, &a) != 1 || n_dests == MAX_DESTS) {
            fclose(f);
            fprintf(stderr, "loadgen: %s: '%s' is %s\n", file, line,
                    n_dests == MAX_DESTS ? "one address too many (65536 at most)" : "no IPv4 address");
            return -1;
        }
        dest_lens[n_dests] = build_request(dest_requests[n_dests], 1, &a, 0);
        snprintf(dest_text[n_dests], sizeof dest_text[n_dests], "%s", line);
        n_dests++;
    }
    fclose(f);
    if (!n_dests) {
        fprintf(stderr, "loadgen: %s holds no address\n", file);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *addr = NULL;
    int port = 0, conc = 2, proxy_v2 = 0, hello = 0, opt;
    const char *dests = NULL;
    long first = 0;
    while ((opt = getopt(argc, argv, "a:p:e:s:c:n:t:w:xHD:O:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'e': expect = optarg; break;
        case 's': expect_status = atoi(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'n': count_limit = atol(optarg); break;
        case 't': time_limit = atof(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'x': proxy_v2 = 1; break;
        case 'H': hello = 1; break;
        case 'D': dests = optarg; break;
        case 'O': first = atol(optarg); break;
        default: return usage();
        }
    }
    if (!addr || port <= 0 || port > 65535 || !expect || !*expect || conc < 1 || conc > MAX_THREADS ||
        (count_limit <= 0 && time_limit <= 0) || (count_limit > 0 && time_limit > 0) || warmup < 0 ||
        expect_status < 100 || expect_status > 599 || (dests && (!proxy_v2 || hello)) || first < 0 || (first && !dests))
        return usage();
    struct sockaddr_in *s4 = (struct sockaddr_in *)&target;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&target;
    memset(&target, 0, sizeof target);
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        target_len = sizeof *s4;
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        target_len = sizeof *s6;
    } else {
        fprintf(stderr, "loadgen: bad address '%s'\n", addr);
        return 64;
    }
    request_len = build_request(request, proxy_v2, NULL, hello);
    if (dests && (target.ss_family != AF_INET || load_dests(dests) < 0)) {
        if (target.ss_family != AF_INET)
            fprintf(stderr, "loadgen: -D needs an IPv4 ADDRESS (its destinations are IPv4)\n");
        return 64;
    }
    if (n_dests)
        atomic_store(&next_dest, (unsigned long)first % n_dests);

    pthread_t th[MAX_THREADS];
    void *bufs[MAX_THREADS];
    /* warm-up, all threads at once, not counted unless it fails */
    for (int i = 0; i < conc; i++)
        if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "loadgen: pthread_create failed\n");
            return 1;
        }
    for (int i = 0; i < conc; i++) {
        pthread_join(th[i], &bufs[i]);
        if (!bufs[i]) {
            fprintf(stderr, "loadgen: out of memory\n");
            return 1;
        }
    }
    double t0 = now();
    for (int i = 0; i < conc; i++)
        if (pthread_create(&th[i], NULL, runner, bufs[i]) != 0) {
            fprintf(stderr, "loadgen: pthread_create failed\n");
            return 1;
        }
    if (time_limit > 0) {
        struct timespec ts = {(time_t)time_limit, (long)((time_limit - (double)(time_t)time_limit) * 1e9)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        atomic_store(&stop, 1);
    }
    for (int i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    double secs = now() - t0;
    for (int i = 0; i < conc; i++)
        free(bufs[i]);
    long n_ok = atomic_load(&ok), n_fail = atomic_load(&failed);
    printf("ok=%ld fail=%ld secs=%.3f rate=%.1f\n", n_ok, n_fail, secs, secs > 0 ? (double)n_ok / secs : 0.0);
    return n_fail ? 1 : 0;
}
