/* loadclient - many parallel TCP clients for the load, race and
 * exhaustion tests (THREATS A9, I1-I7, J1).
 *
 *   loadclient [-n TOTAL] [-c CONCURRENT] [-p PORT] [-t TIMEOUT_MS] [-H] TARGET...
 *
 * TARGET is ADDR=TOKEN: connection i goes to target i % count, sends an
 * HTTP/1.0 request (none with -H: connect and wait for the server to
 * close) and reads until EOF. The answer is
 *   ok       it holds the target's own TOKEN
 *   wrong    it holds another target's TOKEN, or WRONG_TOKEN (-w TOKEN,
 *            repeatable: pages that must never be seen, e.g. an outside jail)
 *   refused  nothing at all: the connection was closed without a byte
 *   other    bytes but no known token
 *   error    connect failed or the read timed out
 * Prints one line per target and a total line with the rate, and, with
 * -H, the longest time from connect to the server's close (max_close_ms).
 * Always exits 0 when it ran: the test script judges the figures. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { OK, WRONG, REFUSED, OTHER, ERROR, NKIND };
static const char *const kind_name[NKIND] = {"ok", "wrong", "refused", "other", "error"};

struct target {
    struct sockaddr_storage sa;
    socklen_t salen;
    char addr[64];
    const char *token;
    atomic_long count[NKIND];
};

static struct target *targets;
static int ntargets;
static const char *bad_tokens[16];
static int nbad;
static long total = 1000;
static int port = 80, timeout_ms = 10000, hold;
static atomic_long next_index;
static atomic_long max_close_ms;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int classify(const struct target *t, const char *buf, size_t n)
{
    if (n == 0)
        return REFUSED;
    for (int i = 0; i < nbad; i++)
        if (strstr(buf, bad_tokens[i]))
            return WRONG;
    for (int i = 0; i < ntargets; i++)
        if (&targets[i] != t && strcmp(targets[i].token, t->token) != 0 && strstr(buf, targets[i].token))
            return WRONG;
    return strstr(buf, t->token) ? OK : OTHER;
}

static int one(struct target *t)
{
    static const char req[] = "GET / HTTP/1.0\r\n\r\n";
    char buf[65536];
    size_t n = 0;
    int fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ERROR;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&t->sa, t->salen) < 0) {
        close(fd);
        return ERROR;
    }
    double t0 = now_ms();
    if (!hold && send(fd, req, sizeof req - 1, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET) {
        close(fd);
        return ERROR;
    }
    for (;;) {
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ECONNRESET && n == 0)
                break; /* closed without a byte: refused */
            close(fd);
            return ERROR;
        }
        n += (size_t)r;
        if (n == sizeof buf - 1)
            n = 0; /* only the tokens matter: keep reading */
    }
    long ms = (long)(now_ms() - t0);
    long old = atomic_load(&max_close_ms);
    while (ms > old && !atomic_compare_exchange_weak(&max_close_ms, &old, ms))
        ;
    buf[n] = '\0';
    close(fd);
    return classify(t, buf, n);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        long i = atomic_fetch_add(&next_index, 1);
        if (i >= total)
            return NULL;
        struct target *t = &targets[i % ntargets];
        atomic_fetch_add(&t->count[one(t)], 1);
    }
}

static int parse_target(const char *arg, struct target *t)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof t->addr)
        return -1;
    memcpy(t->addr, arg, (size_t)(eq - arg));
    t->addr[eq - arg] = '\0';
    t->token = eq + 1;
    memset(&t->sa, 0, sizeof t->sa);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&t->sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->sa;
    if (inet_pton(AF_INET, t->addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
        t->salen = sizeof *s4;
    } else if (inet_pton(AF_INET6, t->addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        t->salen = sizeof *s6;
    } else {
        return -1;
    }
    for (int k = 0; k < NKIND; k++)
        atomic_init(&t->count[k], 0);
    return 0;
}

int main(int argc, char **argv)
{
    int conc = 32, opt;
    while ((opt = getopt(argc, argv, "n:c:p:t:w:H")) != -1) {
        switch (opt) {
        case 'n': total = atol(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'p': port = atoi(optarg); break;
        case 't': timeout_ms = atoi(optarg); break;
        case 'w':
            if (nbad < 16)
                bad_tokens[nbad++] = optarg;
            break;
        case 'H': hold = 1; break;
        default: goto usage;
        }
    }
    ntargets = argc - optind;
    if (ntargets < 1 || conc < 1 || total < 1)
        goto usage;
    targets = calloc((size_t)ntargets, sizeof *targets);
    if (!targets)
        return 2;
    for (int i = 0; i < ntargets; i++)
        if (parse_target(argv[optind + i], &targets[i]) < 0)
            goto usage;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t *th = calloc((size_t)conc, sizeof *th);
    if (!th)
        return 2;
    double t0 = now_ms();
    int started = 0;
    for (int i = 0; i < conc; i++) {
        if (pthread_create(&th[i], &attr, worker, NULL) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double secs = (now_ms() - t0) / 1000.0;
    long sum[NKIND] = {0};
    for (int i = 0; i < ntargets; i++) {
        printf("target %s", targets[i].addr);
        for (int k = 0; k < NKIND; k++) {
            long v = atomic_load(&targets[i].count[k]);
            sum[k] += v;
            printf(" %s=%ld", kind_name[k], v);
        }
        printf("\n");
    }
    printf("total connections=%ld", total);
    for (int k = 0; k < NKIND; k++)
        printf(" %s=%ld", kind_name[k], sum[k]);
    printf(" threads=%d seconds=%.2f rate=%.0f/s max_close_ms=%ld\n", started, secs, total / (secs > 0 ? secs : 1),
           atomic_load(&max_close_ms));
    return 0;
usage:
    fprintf(stderr, "usage: loadclient [-n TOTAL] [-c CONCURRENT] [-p PORT] [-t TIMEOUT_MS] [-w BAD_TOKEN] [-H] "
                    "ADDR=TOKEN...\n");
    return 64;
}
