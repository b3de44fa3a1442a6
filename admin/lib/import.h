/* import.h - legacy flat files into the database (export.h: out of
 * it). The parsing is legacy.h's; this module adds what needs the
 * database and the file system: conflicts with existing rows, the
 * replacement of a service's rows, whether a directory exists, the
 * ownership and mode of the file (THREATS H13).
 *
 * The caller owns the transaction: BEGIN IMMEDIATE before importing (one
 * transaction for a whole file, or for every file of a migration), a
 * plain BEGIN for a dry run, and COMMIT only when the statistics show no
 * error; otherwise ROLLBACK. Statements are prepared once per importer
 * and reused for every row. */
#ifndef VH_IMPORT_H
#define VH_IMPORT_H

#include "legacy.h"
#include "row.h"
#include "vherr.h"

#include <stdio.h>

typedef struct sqlite3 sqlite3;

/* Diagnostic kinds of the importer, after legacy.h's. */
enum {
    VH_LEGACY_E_EXISTS = 16, /* error: the service already has a row for the address */
    VH_LEGACY_E_EXPOSED,     /* error: host users reach the (existing) jail on a
                                file system that honours set-uid (THREATS K7) */
    VH_LEGACY_E_NOJAIL,      /* error: the directory is no jail ("/", or it
                                holds the database or another domain's jail)
                                and the import was not given --unjailed */
    VH_LEGACY_W_NODIR = 48,  /* warning: the directory is missing or no directory */
    VH_LEGACY_W_FILE,        /* warning (line 0): the file is writable by others, or not root's */
};

enum vh_import_mode {
    VH_IMPORT_STRICT,  /* an existing (service, address) row is an error */
    VH_IMPORT_REPLACE, /* every row of the service is deleted first */
    VH_IMPORT_SAME_OK, /* an existing identical row (jail and run-as identity)
                          is left as it is; a different one is an error:
                          migrate-inetd run twice does no harm */
};

typedef struct vh_import_opts {
    const char *service; /* a valid service name, or '*' */
    int mode;            /* enum vh_import_mode */
    int dry_run;         /* read only: nothing is inserted or deleted */
    const vh_row *ident; /* run-as identity (has_user, user, group, uid,
                            gid, groups) for every row; NULL or has_user 0:
                            root, as the legacy program ran them */
    /* issue 13: a directory that is no jail (nest.h vh_nest_no_jail) is
     * an E_NOJAIL error unless unjailed is 1; then its row is stored
     * with unjailed = 1 (other rows stay 0) */
    int unjailed;
    const char *dbfile; /* the database, absolute (NULL: not checked) */
    const char *rerun;  /* the command with --unjailed, for the error */
} vh_import_opts;

enum vh_import_action {
    VH_IMPORT_ADD = 1, /* the row is (with dry_run: would be) added */
    VH_IMPORT_SAME,    /* SAME_OK: an identical row is already there */
};

typedef struct vh_import_report {
    /* every diagnostic: the parser's and the importer's (line 0: about
     * the whole file). May be NULL. */
    void (*diag)(void *ctx, const vh_legacy_diag *d);
    /* every row that is or would be written, or already there. May be NULL. */
    void (*row)(void *ctx, const vh_legacy_rec *r, int action);
    void *ctx;
} vh_import_report;

typedef struct vh_import_stats {
    vh_legacy_stats parse;   /* errors and warnings include the importer's */
    unsigned long added;     /* rows inserted (dry run: that would be) */
    unsigned long same;      /* SAME_OK rows already there */
    unsigned long removed;   /* REPLACE: rows of the service deleted */
    unsigned long conflicts; /* E_EXISTS errors */
    unsigned long missing;   /* W_NODIR warnings */
} vh_import_stats;

typedef struct vh_importer vh_importer;

/* Prepare the statements on db. Returns 0 or -1 with e filled. */
int vh_import_new(sqlite3 *db, vh_importer **out, vh_err *e);
void vh_import_free(vh_importer *im);

/* Import the flat file read from fd, called file in messages, into the
 * caller's transaction. Returns 0 when the work was done (the file is
 * clean when st->parse.errors == 0), or -1 with e filled when it could
 * not be (read error, database error, no memory): roll back either way
 * unless clean. */
int vh_import_fd(vh_importer *im, const char *file, int fd, const vh_import_opts *o, const vh_import_report *r,
                 vh_import_stats *st, vh_err *e);

/* The same for a path ("-": standard input). A file that cannot be
 * opened, or is a directory, is -1 with VH_EX_NOINPUT. A regular file
 * writable by group or others, or not owned by root, gets a W_FILE
 * warning (THREATS H13), and its no-jail lines are E_NOJAIL errors
 * even with o->unjailed (issue 13: whoever wrote it chose them). */
int vh_import_path(vh_importer *im, const char *path, const vh_import_opts *o, const vh_import_report *r,
                   vh_import_stats *st, vh_err *e);

#endif
