/* exitcodes.h - the one exit-code table of virtuald and vhostctl.
 *
 * Classes from sysexits.h, 126/127 for exec failures as shells do. The
 * table below is written once: the enum, both programs' --help and the
 * docs test (which checks virtuald(8) and vhostctl(8) against --help) all
 * come from it. A meaning of NULL: that program never exits with it. */
#ifndef VH_EXITCODES_H
#define VH_EXITCODES_H

#include <stdio.h>
#include <sysexits.h>

/* X(NAME, CODE, what it means from virtuald, what it means from vhostctl) */
#define VH_EXIT_TABLE(X)                                                                                               \
    X(VH_EX_OK, EX_OK, NULL, "success")                                                                                \
    X(VH_EX_REFUSED, 1, NULL, "lookup refused or check found warnings only")                                           \
    X(VH_EX_CHECK_ERRORS, 2, NULL, "check or provision found errors")                                                  \
    X(VH_EX_USAGE, EX_USAGE, "usage", "usage")                                                                         \
    X(VH_EX_DATAERR, EX_DATAERR, NULL, "bad data")                                                                     \
    X(VH_EX_NOINPUT, EX_NOINPUT, "no database", "no database or input file")                                           \
    X(VH_EX_NOUSER, EX_NOUSER, "bad run-as identity", "unknown user or group")                                         \
    X(VH_EX_NOHOST, EX_NOHOST, "no domain", "no such domain")                                                          \
    X(VH_EX_UNAVAILABLE, EX_UNAVAILABLE, "domain disabled", NULL)                                                      \
    X(VH_EX_SOFTWARE, EX_SOFTWARE, "internal error", "internal error")                                                 \
    X(VH_EX_OSERR, EX_OSERR, "system call failed", "system call failed")                                               \
    X(VH_EX_OSFILE, EX_OSFILE, "jail missing or unsafe", "jail unsafe")                                                \
    X(VH_EX_CANTCREAT, EX_CANTCREAT, NULL, "cannot create")                                                            \
    X(VH_EX_IOERR, EX_IOERR, "database I/O error", "I/O error")                                                        \
    X(VH_EX_TEMPFAIL, EX_TEMPFAIL,                                                                                     \
      "database locked, a pids cgroup removed while entered, no PROXY header in time, "                                \
      "or the domain at one of its limits",                                                                            \
      "database locked")                                                                                               \
    X(VH_EX_PROTOCOL, EX_PROTOCOL, "fd 0 not a TCP connection, or PROXY header refused", NULL)                         \
    X(VH_EX_NOPERM, EX_NOPERM, "not root or permission denied", "permission denied")                                   \
    X(VH_EX_CONFIG, EX_CONFIG, "database untrusted/corrupt/wrong schema or no pids cgroup",                            \
      "database untrusted or wrong schema")                                                                            \
    X(VH_EX_CANNOT_EXEC, 126, "program not executable", NULL)                                                          \
    X(VH_EX_NOT_FOUND, 127, "program not found", NULL)

enum {
#define VH_EXIT_ENUM(name, code, vd, vc) name = code,
    VH_EXIT_TABLE(VH_EXIT_ENUM)
#undef VH_EXIT_ENUM
};

enum vh_prog { VH_PROG_VIRTUALD, VH_PROG_VHOSTCTL };

/* Write "Exit status: 64 usage, 66 no database, ..." for prog from the
 * table, wrapped between words to fit 80 columns (a code never ends a
 * line: it stays with its meaning's first word), ending in a newline. */
void vh_exit_help(FILE *f, enum vh_prog prog);

#endif
