/* dbadmin.h - vhostctl's side of the database: the read-write open and
 * its transactions. */
#ifndef VH_DBADMIN_H
#define VH_DBADMIN_H

#include "vherr.h"

typedef struct sqlite3 sqlite3;

/* vhostctl's open for reading and writing an existing database, schema
 * version checked; with create set (init only) the file is created 0600
 * (and its directory 0700 when missing) and no version is required. */
int vh_dbadmin_open(const char *path, int create, sqlite3 **out, vh_err *e);

/* BEGIN IMMEDIATE; COMMIT (rolled back when it fails). 0 or -1 with e. */
int vh_dbadmin_begin(sqlite3 *db, vh_err *e);
int vh_dbadmin_commit(sqlite3 *db, vh_err *e);

#endif
