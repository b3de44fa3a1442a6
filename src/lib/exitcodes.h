/* exitcodes.h - the one exit-code table of virtuald and vhostctl.
 *
 * Classes from sysexits.h, documented in virtuald(8) and vhostctl(8);
 * 126/127 for exec failures as shells do. */
#ifndef VH_EXITCODES_H
#define VH_EXITCODES_H

#include <sysexits.h>

enum {
    VH_EX_OK = EX_OK,                 /* 0   served / success */
    VH_EX_REFUSED = 1,                /* 1   vhostctl lookup: refused; check: warnings */
    VH_EX_CHECK_ERRORS = 2,           /* 2   vhostctl check: errors found */
    VH_EX_USAGE = EX_USAGE,           /* 64  bad command line */
    VH_EX_DATAERR = EX_DATAERR,       /* 65  bad input data (address, name, file) */
    VH_EX_NOINPUT = EX_NOINPUT,       /* 66  database or input file missing/unreadable */
    VH_EX_NOUSER = EX_NOUSER,         /* 67  run-as user or group unknown / invalid */
    VH_EX_NOHOST = EX_NOHOST,         /* 68  no domain for this service and address */
    VH_EX_UNAVAILABLE = EX_UNAVAILABLE, /* 69 domain disabled */
    VH_EX_SOFTWARE = EX_SOFTWARE,     /* 70  internal error */
    VH_EX_OSERR = EX_OSERR,           /* 71  a system call failed (privilege step, memory) */
    VH_EX_OSFILE = EX_OSFILE,         /* 72  jail missing or unsafe */
    VH_EX_CANTCREAT = EX_CANTCREAT,   /* 73  cannot create/write a file */
    VH_EX_IOERR = EX_IOERR,           /* 74  I/O error */
    VH_EX_TEMPFAIL = EX_TEMPFAIL,     /* 75  database locked past the busy timeout, deadline */
    VH_EX_PROTOCOL = EX_PROTOCOL,     /* 76  fd 0 is not a usable TCP connection */
    VH_EX_NOPERM = EX_NOPERM,         /* 77  not root, or a privilege step refused */
    VH_EX_CONFIG = EX_CONFIG,         /* 78  database untrusted, corrupt, wrong schema */
    VH_EX_CANNOT_EXEC = 126,          /* program found in the jail but not executable */
    VH_EX_NOT_FOUND = 127,            /* program not found in the jail */
};

#endif
