/* log.h - syslog for virtuald: facility daemon, ident "virtuald".
 *
 * The /dev/log socket is connected once, before the jail is entered
 * (there is no /dev/log inside, THREATS A10), non-blocking and
 * close-on-exec; when a message cannot be sent at once the process waits
 * for room at most 1 s, once, then drops (J4, F13). Also to stderr, only
 * when stderr is a terminal: under inetd fds 0-2 are the client's
 * socket. */
#ifndef VH_LOG_H
#define VH_LOG_H

#include <stddef.h>

/* Connect the socket and take the pid every later line carries: the
 * caller's, as the host sees it, also in the lines of processes that
 * share or copy this memory inside a PID namespace (issue 13 point 10). */
void vh_log_open(const char *ident);

void vh_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A log field value: printable (vh_printable), and in double quotes when
 * it is empty or holds a space, '"' or '='. Returns out. */
char *vh_log_value(const char *s, char *out, size_t n);

#endif
