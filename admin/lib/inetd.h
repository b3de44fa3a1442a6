/* inetd.h - inetd.conf as the legacy installations wrote it: find the
 * lines that run the legacy virtuald, and convert them.
 *
 * A pure module: bytes in, entries and diagnostics out, and the converted
 * text through a writer callback. It opens no file.
 *
 * What is read (openbsd-inetd's inetd.conf(5), plus the HOWTO's style):
 * - a line whose first byte is '#' is a comment; a line of blanks only is
 *   blank; both end an entry and are kept as they are;
 * - an entry is a line of words separated by spaces and tabs (a CR before
 *   the LF counts as a blank); it continues on the next line when its
 *   last word is a backslash or ends in one (the HOWTO's example), or
 *   when the next line starts with a blank and is not blank (inetd's own
 *   rule);
 * - the words: SERVICE (optionally HOST:SERVICE), socket type, protocol,
 *   wait/nowait, user, server program, then the server's argv from
 *   argv[0] on.
 *
 * An entry runs virtuald when the server program's base name is
 * "virtuald", or when it is "tcpd" and the first argument's (argv[0])
 * base name is "virtuald" (tcpd then runs that program). Its arguments
 * after argv[0] are in
 * - the legacy form, CONF PROGRAM [ARG...], when the first one starts
 *   with '/' (the legacy program needed a file, and no service name nor
 *   option of the new virtuald contains a '/');
 * - the new form, [--db FILE] [--verbose] SERVICE PROGRAM [ARG...], when
 *   it contains no '/' at all: left as it is, so converting twice does no
 *   harm. A first argument with a '/' not at its start is an error (a
 *   relative CONF: the legacy program opened it relative to inetd's
 *   working directory). */
#ifndef VH_INETD_H
#define VH_INETD_H

#include "valid.h"
#include "vherr.h"

#include <limits.h>
#include <stddef.h>

enum vh_inetd_form {
    VH_INETD_LEGACY = 1, /* virtuald CONF PROGRAM [ARG...]: to convert */
    VH_INETD_NEW,        /* virtuald [--db FILE] SERVICE PROGRAM [ARG...] */
};

enum vh_inetd_severity { VH_INETD_ERROR = 1, VH_INETD_WARNING = 2 };

/* One entry that runs virtuald, valid for its form. */
typedef struct vh_inetd_entry {
    unsigned long line; /* its first physical line (1-based) */
    unsigned long last_line;
    int form; /* enum vh_inetd_form */
    int via_tcpd;
    int continued;                    /* spans more than one physical line */
    char service[VH_SERVICE_MAX + 1]; /* first word, any HOST: removed; "" when
                                         the new form has an odd one */
    char conf[PATH_MAX];              /* legacy form: CONF */
    const char *program;              /* legacy form: PROGRAM, not NUL-terminated */
    size_t program_len;
    int tls_sni; /* new form: virtuald's own options hold --tls-sni (issue 17) */
    /* new form: virtuald's SERVICE argument, which selects its rows; ""
     * when missing or no valid service name */
    char arg_service[VH_SERVICE_MAX + 1];
} vh_inetd_entry;

typedef struct vh_inetd_ops {
    /* each entry that runs virtuald (either form). 0 goes on; -1 with e
     * filled stops the scan. May be NULL. */
    int (*entry)(void *ctx, const vh_inetd_entry *en, vh_err *e);
    /* a problem in a line that runs virtuald. msg is printable. */
    void (*diag)(void *ctx, unsigned long line, int severity, const char *msg);
} vh_inetd_ops;

typedef struct vh_inetd_stats {
    unsigned long lines;     /* physical lines */
    unsigned long entries;   /* entries of any kind */
    unsigned long legacy;    /* valid legacy virtuald entries */
    unsigned long converted; /* virtuald entries in the new form already */
    unsigned long errors, warnings;
} vh_inetd_stats;

/* Scan buf (the whole file). Returns 0 (clean when st->errors == 0), or
 * -1 with e filled (no memory, or stopped by ops->entry). */
int vh_inetd_scan(const char *buf, size_t len, const vh_inetd_ops *ops, void *ctx, vh_inetd_stats *st, vh_err *e);

/* Can db be written into inetd.conf as virtuald's --db argument? It must
 * be absolute (inetd starts servers in /) and hold no blank or control
 * byte (inetd splits arguments at blanks). 0 or -1 (VH_EX_USAGE). */
int vh_inetd_db_ok(const char *db, vh_err *e);

/* Can path be written into inetd.conf as one absolute argument (what
 * names it in messages)? As vh_inetd_db_ok. 0 or -1 (VH_EX_USAGE). */
int vh_inetd_word_ok(const char *what, const char *path, vh_err *e);

/* Write buf converted through out: every valid legacy entry becomes
 * "... VIRTUALD argv0 [--db DB] SERVICE PROGRAM ARG..." (db NULL: the
 * default database, no --db; virtuald: the new program's file, which
 * replaces the legacy one's - under tcpd, tcpd's argv[0] - or NULL to
 * keep the path as it was), everything else is written byte for
 * byte. A legacy entry is written on one line whatever its continuations:
 * openbsd-inetd reads a trailing '\' as an argument, and one line means
 * the same to every inetd. Within a line the original separators stay.
 * out returns 0, or -1 to stop. Returns 0 or -1 with e filled. */
typedef int (*vh_inetd_out)(void *ctx, const char *p, size_t n);
int vh_inetd_convert(const char *buf, size_t len, const char *virtuald, const char *db, vh_inetd_out out, void *ctx,
                     vh_err *e);

#endif
