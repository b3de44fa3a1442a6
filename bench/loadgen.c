/* loadgen - the benchmark's HTTP/1.0 client.
 *
 *   loadgen -a ADDRESS -p PORT -e TEXT [-c CONC] [-n COUNT | -t SECONDS] [-w WARMUP] [-x]
 *
 * CONC threads each loop: connect, send "GET / HTTP/1.0\r\n\r\n", read
 * the whole reply until the server closes, check it is "200" with a body
 * that contains TEXT (the page that only the right jail holds). Stops
 * after COUNT connections in all, or after SECONDS. Prints one line of
 * key=value pairs:
 *
 *   ok=N fail=N secs=S rate=R
 *
 * rate is successful connections per second of wall-clock time. Exit
 * status 0 when every reply was right, 1 when any failed, 64 on usage.
 * The first failure's reason goes to stderr. WARMUP connections per
 * thread are made first and not counted (page cache, inetd's first fork).
 *
 * -x: each connection is a balancer's (issue 15): the request is preceded,
 * in the same write, by a fixed PROXY protocol v2 header as HAProxy 2.6
 * sends it with "send-proxy-v2 proxy-v2-options crc32c": command PROXY,
 * TCP over the target's family, source 192.0.2.10 (2001:db8::10) port
 * 40000, destination ADDRESS and PORT, one CRC32C TLV over the header.
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
static long count_limit;  /* 0: by time */
static double time_limit; /* seconds; 0: by count */
static int warmup;
static atomic_long started, ok, failed;
static atomic_int stop;
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static int first_reported;
/* what each connection writes: "GET / HTTP/1.0\r\n\r\n", after the PROXY
 * header with -x */
static unsigned char request[128];
static size_t request_len;

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
    if (write(fd, request, request_len) != (ssize_t)request_len) {
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
    if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) != 0) {
        report_first("not a 200 reply: '%.80s'", got ? buf : "(empty: the connection was closed without a reply)");
        goto out;
    }
    const char *body = strstr(buf, "\r\n\r\n");
    if (!body || !strstr(body + 4, expect)) {
        report_first("wrong page: '%.200s'", body ? body + 4 : buf);
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
    fprintf(stderr, "usage: loadgen -a ADDRESS -p PORT -e TEXT [-c CONC] [-n COUNT | -t SECONDS] [-w WARMUP] [-x]\n");
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

/* -x: the fixed PROXY v2 header for the target, then the request */
static void build_request(int proxy_v2)
{
    static const char req[] = "GET / HTTP/1.0\r\n\r\n";
    static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    size_t n = 0;
    if (proxy_v2) {
        unsigned char *h = request;
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
            memcpy(a + 4, &s4->sin_addr, 4);
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
        n = 16 + len;
    }
    memcpy(request + n, req, sizeof req - 1);
    request_len = n + sizeof req - 1;
}

int main(int argc, char **argv)
{
    const char *addr = NULL;
    int port = 0, conc = 2, proxy_v2 = 0, opt;
    while ((opt = getopt(argc, argv, "a:p:e:c:n:t:w:x")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'e': expect = optarg; break;
        case 'c': conc = atoi(optarg); break;
        case 'n': count_limit = atol(optarg); break;
        case 't': time_limit = atof(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'x': proxy_v2 = 1; break;
        default: return usage();
        }
    }
    if (!addr || port <= 0 || port > 65535 || !expect || !*expect || conc < 1 || conc > MAX_THREADS ||
        (count_limit <= 0 && time_limit <= 0) || (count_limit > 0 && time_limit > 0) || warmup < 0)
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
    build_request(proxy_v2);

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
