#include "timing.h"

#ifdef VH_TIMING
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define VH_TIMING_MAX 48

static struct {
    const char *step;
    long long ns;
} marks[VH_TIMING_MAX];
static int nmarks;
static long long t0_ns = -1;
static int out_fd = -1;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void vh_timing_begin(void)
{
    long long t = now_ns();
    const char *s = getenv("VH_TIMING_T0");
    if (s)
        t0_ns = atoll(s);
    marks[0].step = "main";
    marks[0].ns = t;
    nmarks = 1;
    out_fd = open(VH_TIMING_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    /* mark 1: after the open, which belongs to no step */
    marks[1].step = "timing";
    marks[1].ns = now_ns();
    nmarks = 2;
}

void vh_timing_mark(const char *step)
{
    if (nmarks < VH_TIMING_MAX) {
        marks[nmarks].step = step;
        marks[nmarks++].ns = now_ns();
    }
}

void vh_timing_end(void)
{
    char line[2048];
    size_t o = 0;
    vh_timing_mark("end");
    if (out_fd < 0)
        return;
    o += (size_t)snprintf(line + o, sizeof line - o, "exec=%.1f",
                          t0_ns >= 0 ? (double)(marks[0].ns - t0_ns) / 1000.0 : -1.0);
    for (int i = 2; i < nmarks && o < sizeof line; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, " %s=%.1f", marks[i].step,
                              (double)(marks[i].ns - marks[i - 1].ns) / 1000.0);
    if (o < sizeof line)
        o += (size_t)snprintf(line + o, sizeof line - o, " total=%.1f\n",
                              (double)(marks[nmarks - 1].ns - marks[1].ns) / 1000.0);
    if (o < sizeof line)
        (void)!write(out_fd, line, o);
}
#else
typedef int vh_timing_unused; /* ISO C wants a non-empty translation unit */
#endif
