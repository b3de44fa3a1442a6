/* dbcheck.h - what `vhostctl check` says about the database file
 * itself: trusted as virtuald requires (E1-E5), not readable by others
 * (E6), its schema exactly ours (E8), and SQLite's quick_check. */
#ifndef VH_DBCHECK_H
#define VH_DBCHECK_H

#include "finding.h"
#include "vherr.h"

typedef struct sqlite3 sqlite3;

/* Check the open database db at path; findings carry the domain label
 * "database". Returns the worst severity (0, 1, 2). */
int vh_dbcheck(sqlite3 *db, const char *path, vh_finding_cb cb, void *ctx);

/* sql/004's prefix_lengths against the rows, recounted by a scan (check
 * and init only; the triggers keep it in every change): cb is called
 * once for each (tbl, family, len) whose stored refs (-1: no entry)
 * differ from the rows' count (0: no row of that length). Returns how
 * many differ, or -1 with e. */
typedef void (*vh_prefix_drift_cb)(void *ctx, const char *tbl, int family, int len, long rows, long stored);
long vh_dbcheck_prefix_drift(sqlite3 *db, vh_prefix_drift_cb cb, void *ctx, vh_err *e);

/* Recount prefix_lengths from the rows, in the caller's write
 * transaction. 0, or -1 with e. */
int vh_dbcheck_prefix_recount(sqlite3 *db, vh_err *e);

/* 1 when schema ("main", or an attached one) is exactly the one our
 * migrations build (THREATS E8), 0 when not (diff: the first object
 * that differs, printable), -1 with e. */
int vh_schema_same(sqlite3 *db, const char *schema, char *diff, size_t n, vh_err *e);

#endif
