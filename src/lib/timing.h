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
 * Without VH_TIMING every macro is empty and nothing here is compiled:
 * the timing build changes no behaviour of the program, only adds clock
 * reads and one write. */
#ifndef VH_TIMING_H
#define VH_TIMING_H

#ifdef VH_TIMING
#ifndef VH_TIMING_FILE
#define VH_TIMING_FILE "/run/virtuald-timing.log"
#endif
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
