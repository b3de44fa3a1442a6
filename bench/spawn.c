/* spawn - the cost of one wrapper start, without a super-server or a
 * client protocol in the way.
 *
 *   spawn -a ADDRESS -n COUNT PROGRAM [ARG...]
 *
 * COUNT times: connect a TCP socket to a listener on ADDRESS (port chosen
 * by the kernel), accept it, fork, put the accepted connection on fds
 * 0-2 as inetd does, exec PROGRAM, wait for it. Prints
 *
 *   wall_us_median=W wall_us_p90=P cpu_us_mean=C minflt_mean=M fail=F
 *
 * wall is fork to reaped child; cpu is the children's user+system time
 * (getrusage) per start, minflt its minor page faults. PROGRAM should end at once (e.g. virtuald
 * execing `busybox true` in the jail), so that the numbers are the cost
 * of getting there. Exit 1 when any child exited non-zero. The child gets
 * VH_TIMING_T0 (CLOCK_MONOTONIC ns just before execv) for virtuald's
 * timing build (src/lib/timing.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.2";
    long n = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "+a:n:")) != -1) {
        if (opt == 'a')
            addr = optarg;
        else if (opt == 'n')
            n = atol(optarg);
        else
            return 64;
    }
    if (optind >= argc || n < 1) {
        fprintf(stderr, "usage: spawn -a ADDRESS -n COUNT PROGRAM [ARG...]\n");
        return 64;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "spawn: bad IPv4 address %s\n", addr);
        return 64;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 16) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
        perror("spawn: listener");
        return 1;
    }
    double *wall = calloc((size_t)n, sizeof *wall);
    if (!wall)
        return 1;
    long fail = 0;
    for (long i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0) {
            perror("spawn: connect");
            return 1;
        }
        int a = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0) {
            perror("spawn: accept");
            return 1;
        }
        double t0 = now_us();
        pid_t p = fork();
        if (p < 0) {
            perror("spawn: fork");
            return 1;
        }
        if (p == 0) {
            dup2(a, 0);
            dup2(a, 1);
            dup2(a, 2);
            /* for virtuald's timing build (src/lib/timing.h): when exec starts */
            struct timespec ts;
            char t0s[32];
            clock_gettime(CLOCK_MONOTONIC, &ts);
            snprintf(t0s, sizeof t0s, "%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
            setenv("VH_TIMING_T0", t0s, 1);
            execv(argv[optind], argv + optind);
            _exit(127);
        }
        int st;
        waitpid(p, &st, 0);
        wall[i] = now_us() - t0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail++;
        close(a);
        close(c);
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    double cpu =
        (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    qsort(wall, (size_t)n, sizeof *wall, cmp);
    printf("wall_us_median=%.0f wall_us_p90=%.0f cpu_us_mean=%.0f minflt_mean=%.0f fail=%ld\n", wall[n / 2],
           wall[n * 9 / 10], cpu / (double)n, (double)ru.ru_minflt / (double)n, fail);
    return fail ? 1 : 0;
}
