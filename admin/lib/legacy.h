/* legacy.h - the flat configuration format of the legacy virtuald (the
 * Virtual Services HOWTO, chapter 3), parsed strictly.
 *
 * A pure module: bytes in, rows and line-numbered diagnostics out through
 * callbacks. It opens nothing, writes nothing and never looks at the file
 * system (whether a directory exists is the importer's question, see
 * import.h). It streams: a line is handed on as soon as it is complete,
 * so memory does not grow with the file, except for one small entry per
 * distinct address (8 bytes for IPv4, 24 for IPv6) that finds duplicates.
 *
 * The grammar (doc/legacy-migration.md says the same):
 *
 *   file    = *line
 *   line    = content ( LF / CR LF / end of file )
 *   content = *blank                                  ; blank line: skipped
 *           / *blank "#" *byte                        ; comment: skipped
 *           / *blank address 1*blank dir *blank       ; a row
 *   blank   = SP / HTAB
 *   address = 1*(any byte but blank)  ; through vh_addr_canon: IPv4, IPv6
 *                                     ; or "default"
 *   dir     = the rest of the content, trailing blanks removed; blanks
 *             inside are part of it; through vh_valid_root
 *
 * - A line's content (without its LF or CR LF) must be shorter than
 *   VH_LEGACY_LINE_MAX bytes; a longer line is one error with its line
 *   number and is never split into two lines (THREATS H1).
 * - The last line is read whole whether or not it ends in a newline
 *   (H2: the legacy program cut its last character).
 * - A NUL byte anywhere, the first byte included, is an error (H3); a CR
 *   that does not end the line is an error (H4). CR LF is accepted, and a
 *   CR just before the end of the file counts as a line end.
 * - Every bad line is reported, not only the first. A file with any error
 *   must not be imported; the parser still hands on the good rows so that
 *   a caller can report what else it would have done.
 *
 * Warnings (the line is still valid) describe what the legacy program did
 * differently: it searched the file top down, took the first line whose
 * address text equalled the dialled IPv4 address or was "default", split
 * each line at the first space and kept the rest of the line, trailing
 * blanks and CR included. See enum vh_legacy_kind. */
#ifndef VH_LEGACY_H
#define VH_LEGACY_H

#include "addr.h"
#include "vherr.h"

#include <stddef.h>

/* A line's content must be shorter than this many bytes. A jail path can
 * have at most PATH_MAX - 1 = 4095 bytes, so no usable line is refused. */
#define VH_LEGACY_LINE_MAX 4096

/* Bounds on the input as a whole (THREATS K11): past any of them the
 * input is not a legacy configuration and the parse stops at once (feed
 * returns -1, VH_EX_DATAERR), so that /dev/zero, an endless pipe or a
 * binary file end with an error instead of never.
 *  - a line of VH_LEGACY_LINE_MAX bytes or more that holds a NUL byte:
 *    binary data (shorter lines with a NUL are an E_NUL error each);
 *  - more than VH_LEGACY_SIZE_MAX bytes: a million domains take about
 *    40 MiB, so 256 MiB leaves room for six million; this also ends an
 *    endless line of text (a long line is one E_LONG error, H1, and
 *    only its first VH_LEGACY_LINE_MAX bytes are kept);
 *  - more than VH_LEGACY_ERRORS_MAX errors: the file cannot be imported
 *    anyway, and every further line would be one more message. */
#define VH_LEGACY_SIZE_MAX (256ul * 1024 * 1024)
#define VH_LEGACY_ERRORS_MAX 1000

enum vh_legacy_severity { VH_LEGACY_ERROR = 1, VH_LEGACY_WARNING = 2 };

/* What a diagnostic is about. Stable: tests and callers switch on it. */
enum vh_legacy_kind {
    /* errors: the file must not be imported */
    VH_LEGACY_E_LONG = 1, /* content of VH_LEGACY_LINE_MAX bytes or more */
    VH_LEGACY_E_NUL,      /* a NUL byte */
    VH_LEGACY_E_CR,       /* a CR inside the line */
    VH_LEGACY_E_NODIR,    /* an address and no directory */
    VH_LEGACY_E_ADDRESS,  /* vh_addr_canon refused the address */
    VH_LEGACY_E_DIR,      /* vh_valid_root refused the directory */
    VH_LEGACY_E_LINES,    /* more than 2^32 - 1 lines */
    /* warnings: the line is valid */
    VH_LEGACY_W_SHADOWED = 32, /* the legacy program never reached this
                                  line: an earlier line ('default', or one
                                  it could not read) ended its search
                                  first. Imported; meaning changes. */
    VH_LEGACY_W_DUPLICATE,     /* the address was given on an earlier line;
                                  the legacy program used that one. This
                                  line is not imported. */
    VH_LEGACY_W_NOMATCH,       /* the legacy program could never match this
                                  line (address text it read differs, or
                                  IPv6). Imported; meaning changes. */
    VH_LEGACY_W_DIR,           /* the legacy program read another directory
                                  from this line. Imported as read here. */
    VH_LEGACY_W_NOSPACE,       /* the legacy program found no space in this
                                  line and refused every connection that got
                                  to it: it ends its search (like default). */
    VH_LEGACY_W_SLASH,         /* issue 13: the directory ended in '/', which
                                  the legacy program accepted; imported
                                  without it (the same directory). */
};

/* One diagnostic. msg names the fault and the remedy, printable, without
 * the "FILE:LINE:" prefix (file and line are given separately). */
typedef struct vh_legacy_diag {
    const char *file;
    unsigned long line; /* 1-based */
    int severity;       /* enum vh_legacy_severity */
    int kind;           /* enum vh_legacy_kind */
    const char *msg;
} vh_legacy_diag;

/* One row to import. Pointers are valid during the callback only. */
typedef struct vh_legacy_rec {
    unsigned long line;
    const char *address; /* canonical (addr.h), or "default" */
    const char *dir;     /* passed vh_valid_root */
} vh_legacy_rec;

typedef struct vh_legacy_ops {
    /* A valid, first-seen row. Return 0 to go on, or -1 with e filled to
     * stop the parse (it then returns -1 with that e). May be NULL. */
    int (*row)(void *ctx, const vh_legacy_rec *r, vh_err *e);
    /* An error or a warning. May be NULL. */
    void (*diag)(void *ctx, const vh_legacy_diag *d);
} vh_legacy_ops;

typedef struct vh_legacy_stats {
    unsigned long lines;      /* physical lines read */
    unsigned long rows;       /* rows handed to ops->row */
    unsigned long skipped;    /* blank and comment lines */
    unsigned long duplicates; /* valid lines not handed on (W_DUPLICATE) */
    unsigned long errors;     /* error diagnostics (a line can have two) */
    unsigned long warnings;
} vh_legacy_stats;

typedef struct vh_legacy vh_legacy;

/* A parser for the file called file (used in diagnostics only; the
 * string must outlive the parser). Returns NULL when out of memory. */
vh_legacy *vh_legacy_new(const char *file, const vh_legacy_ops *ops, void *ctx);

/* Hand the next n bytes of the file to the parser: any split of the
 * input gives the same result. Returns 0, or -1 with e filled when a
 * callback stopped the parse, memory ran out or the input passed one of
 * the bounds above (VH_EX_DATAERR, the message names the line); the
 * parser must then only be freed. */
int vh_legacy_feed(vh_legacy *p, const void *buf, size_t n, vh_err *e);

/* End of the input: the last line without a newline is read. Fills st
 * (may be NULL). Returns 0 or -1 as vh_legacy_feed. Whether the file is
 * clean is st->errors == 0. */
int vh_legacy_finish(vh_legacy *p, vh_legacy_stats *st, vh_err *e);

void vh_legacy_free(vh_legacy *p);

/* The whole of buf in one call: new, feed, finish, free. */
int vh_legacy_parse_buf(const char *file, const void *buf, size_t n, const vh_legacy_ops *ops, void *ctx,
                        vh_legacy_stats *st, vh_err *e);

/* Read fd to its end (64 KiB at a time) through a parser. A read error
 * is -1 with e->code VH_EX_IOERR naming the file. */
int vh_legacy_parse_fd(const char *file, int fd, const vh_legacy_ops *ops, void *ctx, vh_legacy_stats *st, vh_err *e);

#endif
