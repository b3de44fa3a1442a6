/* dbcheck.h - what `vhostctl check` says about the database file
 * itself: trusted as virtuald requires (E1-E5), not readable by others
 * (E6), its schema exactly ours (E8), and SQLite's quick_check. */
#ifndef VH_DBCHECK_H
#define VH_DBCHECK_H

#include "finding.h"

typedef struct sqlite3 sqlite3;

/* Check the open database db at path; findings carry the domain label
 * "database". Returns the worst severity (0, 1, 2). */
int vh_dbcheck(sqlite3 *db, const char *path, vh_finding_cb cb, void *ctx);

#endif
