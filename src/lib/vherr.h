/* vherr.h - error values passed from the library to the programs (named
 * vherr, not err, so that it cannot shadow the system's <err.h>).
 *
 * Library functions never exit: they return -1 and fill a vh_err with an
 * exit class from exitcodes.h and a message that names the object and the
 * remedy. Only main() decides to die.
 *
 * The two functions keep their short names, vh_fail and vh_printable,
 * against the rule "the file name is the prefix": every module calls
 * them on almost every error path, and vh_vherr_fail would be churn
 * without benefit. */
#ifndef VH_VHERR_H
#define VH_VHERR_H

#include <stddef.h>

typedef struct vh_err {
    int code;       /* an exit class from exitcodes.h */
    char msg[1024]; /* one line, printable, no trailing newline */
} vh_err;

/* Fill e (may be NULL) and return -1. */
int vh_fail(vh_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copy s into out (size n) with every byte outside printable ASCII
 * written as \xHH, so that strings from files, the database or the peer
 * can be logged safely (THREATS C2). Returns out. */
char *vh_printable(const char *s, char *out, size_t n);

/* The same for the len bytes at s, NUL bytes included (\x00). */
char *vh_printable_n(const char *s, size_t len, char *out, size_t n);

#endif
