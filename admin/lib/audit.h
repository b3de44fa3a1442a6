/* audit.h - every change vhostctl makes, told twice from one place: a
 * history row (sql/003 section 2) written in the change's own transaction
 * (rolled back with it), the table trimmed to settings.history_max there,
 * and, once the change has committed, one key=value syslog line (facility
 * authpriv, ident vhostctl).
 *
 * A write command: vh_audit_start; in its transaction vh_audit_key (one
 * row: its JSON before the change) or vh_audit_summary (bulk), the
 * change, vh_audit_write; COMMIT; vh_audit_log; vh_audit_free. */
#ifndef VH_AUDIT_H
#define VH_AUDIT_H

#include "vherr.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

typedef struct vh_audit {
    uint32_t uid;    /* the real uid */
    char login[256]; /* SUDO_USER under sudo, else getlogin(), the tty's owner, the uid's name */
    char *command;   /* the command as run, without "vhostctl" (malloc'd) */
    char *service;   /* the row's key (malloc'd); NULL for a bulk summary */
    char *address;
    char *before; /* JSON (malloc'd), NULL: no row / nothing */
    char *after;
} vh_audit;

/* Who runs the command, and what: argv as a vhostctl subcommand gets it
 * (argv[0] "vhostctl NAME"), words shell-quoted where needed. 0, or -1
 * (out of memory). */
int vh_audit_start(vh_audit *a, int argc, char **argv, vh_err *e);

/* In the transaction, before the change of the row (service, address):
 * remember the key and the row as it is (NULL when there is none). */
int vh_audit_key(vh_audit *a, sqlite3 *db, const char *service, const char *address, vh_err *e);

/* A bulk change's summary instead: before and after as JSON texts
 * (either NULL), copied. */
int vh_audit_summary(vh_audit *a, const char *before, const char *after, vh_err *e);

/* A bulk command's summary, built as JSON by SQLite: before NULL, after
 * {"bulk": KIND, "service": SERVICE|null, "file": FILE, "added": N,
 * "removed": N, "unchanged": N}. */
int vh_audit_bulk(vh_audit *a, sqlite3 *db, const char *kind, const char *service, const char *file,
                  unsigned long added, unsigned long removed, unsigned long same, vh_err *e);

/* In the transaction, after the change: read the row after it (keyed
 * audits), insert the history row and trim the table to history_max,
 * oldest first. 0, or -1 with e (the caller rolls back). */
int vh_audit_write(vh_audit *a, sqlite3 *db, vh_err *e);

/* After COMMIT: the syslog line, values made printable (vh_log_value). */
void vh_audit_log(const vh_audit *a);

/* Its text (without the syslog header) into out: the tests' and
 * vh_audit_log's one formatter. */
void vh_audit_line(const vh_audit *a, char *out, size_t n);

void vh_audit_free(vh_audit *a);

/* settings.history_max into *max: 0, or -1 with e. */
int vh_audit_get_max(sqlite3 *db, long *max, vh_err *e);
/* Set it (0..VH_AUDIT_MAX_MAX) in the caller's transaction. */
int vh_audit_set_max(sqlite3 *db, long max, vh_err *e);
#define VH_AUDIT_MAX_MAX 100000000L

#endif
