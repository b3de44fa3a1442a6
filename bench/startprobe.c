/* startprobe - the floor of the "exec" step in the per-step profile: a
 * static-pie program (linked like virtuald) that does nothing but record,
 * in main(), how long it took from the spawner's timestamp
 * (VH_TIMING_T0, CLOCK_MONOTONIC ns, set by vh_spawn just before execve):
 *
 *   startprobe FILE     appends "exec=US\n" to FILE
 *
 * What it measures is the kernel's execve plus static glibc's start-up,
 * which every process pays, virtuald included. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    const char *t0 = getenv("VH_TIMING_T0");
    if (argc < 2 || !t0)
        return 64;
    char line[64];
    int n = snprintf(line, sizeof line, "exec=%.1f\n", (double)(now - atoll(t0)) / 1000.0);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line, (size_t)n) != n)
        return 1;
    close(fd);
    return 0;
}
