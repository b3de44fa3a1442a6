/* log.h - syslog for virtuald: facility daemon, ident "virtuald".
 *
 * Connected to /dev/log before the jail is entered and never again
 * (there is no /dev/log inside, or a hostile one: THREATS A10); a send
 * never blocks for long when the daemon is stopped or flooded (F13, J4):
 * a process waits at most 1 s, once, for room; then messages are dropped. Also to stderr,
 * only when stderr is a terminal: under inetd fds 0-2 are the client's
 * socket. */
#ifndef VH_LOG_H
#define VH_LOG_H

#include <stddef.h>

void vh_log_open(const char *ident);
/* Close the syslog socket (a process that must hold no descriptor). */
void vh_log_close(void);
void vh_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A log field value: printable (vh_printable), and in double quotes when
 * it is empty or holds a space, '"' or '='. Returns out. */
char *vh_log_value(const char *s, char *out, size_t n);

#endif
