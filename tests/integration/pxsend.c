/* pxsend - a client that sends exact bytes in timed pieces, for the
 * PROXY tests (issue 15, fleet.md 6 table P; THREATS L1-L7).
 *
 *   pxsend [-b SRC] [-x HEX]... [-f FILE]... [-p OFFSETS|every] [-g MS]
 *          [-s MS] [-k] [-t MS] HOST PORT
 *
 *   -b SRC     bind the source address first (127.0.0.1 trusted, 127.0.0.9
 *              not), port chosen by the kernel unless -B
 *   -B PORT    the source port (a v1 health-check form names it)
 *   -x HEX     bytes to send, as hex (appended in order; may be empty)
 *   -f FILE    bytes to send, from a file (appended in order)
 *   -p LIST    cut the bytes before these offsets ("3,17,40"), or before
 *              every byte ("every"); one send per piece
 *   -g MS      wait this long between pieces (default 50)
 *   -G MS      but this long after the first piece (default: -g), so that
 *              a slowly starting server (a sanitizer build) has peeked it
 *   -s MS      after the last piece, stall this long before half-closing
 *   -k         never half-close: keep sending side open (a stalled peer)
 *   -t MS      give up reading the reply after this long (default 10000)
 *   -r         after sending, reset the connection (SO_LINGER 0, close) and
 *              exit 0 without reading: a balancer's L4 check
 *
 * After sending, it half-closes (unless -k) and reads the reply to EOF,
 * written raw to stdout. Exit status: 0 reply read to EOF (possibly
 * empty), 2 connect failed, 3 timed out waiting for EOF, 4 reset while
 * reading, 1 usage or another error. Never part of virtuald. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned char *data;
static size_t len, cap;

static void append(const unsigned char *p, size_t n)
{
    if (len + n > cap) {
        cap = (len + n) * 2 + 64;
        data = realloc(data, cap);
        if (!data) {
            perror("pxsend: realloc");
            exit(1);
        }
    }
    memcpy(data + len, p, n);
    len += n;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void append_hex(const char *s)
{
    while (*s) {
        if (*s == ' ' || *s == ':' || *s == '\n') {
            s++;
            continue;
        }
        int hi = hexval((unsigned char)s[0]), lo = s[1] ? hexval((unsigned char)s[1]) : -1;
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "pxsend: bad hex at '%s'\n", s);
            exit(1);
        }
        unsigned char b = (unsigned char)(hi << 4 | lo);
        append(&b, 1);
        s += 2;
    }
}

static void append_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    unsigned char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        append(buf, n);
    fclose(f);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* send all of p (stops quietly when the peer is gone: the reply tells) */
static int send_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *src = NULL, *cuts = NULL, *sport = "0";
    long gap = 50, first_gap = -1, stall = 0, timeout = 10000;
    int keep = 0, reset = 0, c;
    signal(SIGPIPE, SIG_IGN);
    while ((c = getopt(argc, argv, "b:B:x:f:p:g:G:s:kt:r")) != -1) {
        switch (c) {
        case 'b': src = optarg; break;
        case 'B': sport = optarg; break;
        case 'x': append_hex(optarg); break;
        case 'f': append_file(optarg); break;
        case 'p': cuts = optarg; break;
        case 'g': gap = atol(optarg); break;
        case 'G': first_gap = atol(optarg); break;
        case 's': stall = atol(optarg); break;
        case 'k': keep = 1; break;
        case 'r': reset = 1; break;
        case 't': timeout = atol(optarg); break;
        default:
            fprintf(
                stderr,
                "usage: pxsend [-b SRC [-B PORT]] [-x HEX] [-f FILE] [-p OFFSETS|every] [-g MS] [-G MS] [-s MS] [-k] "
                "[-t MS] [-r] HOST PORT\n");
            return 1;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "pxsend: give HOST PORT\n");
        return 1;
    }
    struct addrinfo hints = {0}, *ai;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai) != 0) {
        fprintf(stderr, "pxsend: bad address %s %s\n", argv[optind], argv[optind + 1]);
        return 1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("pxsend: socket");
        return 1;
    }
    if (src) {
        struct addrinfo *sa;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        hints.ai_family = ai->ai_family;
        if (getaddrinfo(src, sport, &hints, &sa) != 0 || bind(fd, sa->ai_addr, sa->ai_addrlen) < 0) {
            fprintf(stderr, "pxsend: cannot bind %s: %s\n", src, strerror(errno));
            return 1;
        }
        freeaddrinfo(sa);
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        fprintf(stderr, "pxsend: connect: %s\n", strerror(errno));
        return 2;
    }
    freeaddrinfo(ai);

    /* the pieces */
    size_t at = 0;
    if (cuts && strcmp(cuts, "every") == 0) {
        for (; at < len; at++) {
            if (at > 0)
                sleep_ms(at == 1 && first_gap >= 0 ? first_gap : gap);
            if (send_all(fd, data + at, 1) < 0)
                break;
        }
    } else {
        const char *p = cuts;
        int pieces = 0;
        while (p && *p) {
            char *end;
            unsigned long off = strtoul(p, &end, 10);
            if (end == p || off > len || off < at) {
                fprintf(stderr, "pxsend: bad offset list at '%s' (%zu bytes to send)\n", p, len);
                return 1;
            }
            if (off > at) {
                if (send_all(fd, data + at, off - at) < 0)
                    goto sent;
                at = off;
            }
            sleep_ms(pieces++ == 0 && first_gap >= 0 ? first_gap : gap);
            p = *end == ',' ? end + 1 : end;
        }
        if (at < len)
            send_all(fd, data + at, len - at);
    }
sent:
    if (stall)
        sleep_ms(stall);
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
        return 0;
    }
    if (!keep)
        shutdown(fd, SHUT_WR);

    /* the reply, to EOF */
    long long deadline = now_ms() + timeout;
    unsigned char buf[65536];
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 3;
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return 3;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECONNRESET ? 4 : 1;
        }
        /* as it comes: a client held open (-k) is read while it waits */
        fwrite(buf, 1, (size_t)n, stdout);
        fflush(stdout);
    }
    fflush(stdout);
    return 0;
}
