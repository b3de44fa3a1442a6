/* timing.h - where each microsecond of a virtuald run goes.
 *
 * A profiling aid, compiled in only by `cmake -DVH_TIMING=ON` (bench/run
 * builds it for the per-step profile; never for production): every
 * VH_MARK(step) records CLOCK_MONOTONIC, and vh_timing_end() - called just
 * before the service is exec'd - appends one line
 *
 *     exec=US step=US step=US ...
 *
 * to VH_TIMING_FILE (opened by vh_timing_begin() at the top of main, before
 * any jail, close-on-exec). "exec" is the time from the spawner's
 * timestamp in the environment variable VH_TIMING_T0 (CLOCK_MONOTONIC
 * nanoseconds, set just before fork+exec by bench/spawn) to main(): the
 * process start, including dynamic linking when there is any. Each other
 * value is the time since the previous mark.
 *
 * The marks span virtuald's process tree (src/virtuald.c run_tree): fork
 * copies them into PID 1 of the namespace, vfork shares PID 1's with the
 * service, and the service writes the line just before its exec - so the
 * line holds every step on the way to the service, in order, the steps
 * after a fork measured across two processes. What virtuald and PID 1 do
 * after that exec (wait, exit) is in no line.
 *
 * Without VH_TIMING every macro is empty and nothing here is compiled:
 * the timing build changes no behaviour of the program, only adds clock
 * reads and one write. */
#ifndef VH_TIMING_H
#define VH_TIMING_H

#ifdef VH_TIMING
#include "paths.h" /* VH_TIMING_FILE */
void vh_timing_begin(void);
void vh_timing_mark(const char *step);
void vh_timing_end(void);
#define VH_MARK(step) vh_timing_mark(step)
#define VH_TIMING_BEGIN() vh_timing_begin()
#define VH_TIMING_END() vh_timing_end()
#else
#define VH_MARK(step) ((void)0)
#define VH_TIMING_BEGIN() ((void)0)
#define VH_TIMING_END() ((void)0)
#endif

#endif
