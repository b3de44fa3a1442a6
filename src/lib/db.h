/* db.h - virtuald's side of the database: trusting, opening read-only,
 * reading the schema version, closing. vhostctl's opens and writes are
 * admin/lib/dbadmin.h, schema migration admin/lib/migrate.h. */
#ifndef VH_DB_H
#define VH_DB_H

#include "paths.h"
#include "vherr.h"

typedef struct sqlite3 sqlite3;

#define VH_DB_APPLICATION_ID 0x56684f53    /* "VhOS", set by sql/001 */
#define VH_DB_BUSY_MS 2000                 /* virtuald: THREATS I1, >= 2 s gives 0 failures */
#define VH_DB_ADMIN_BUSY_MS 15000          /* vhostctl: writers queue behind each other (I5) */
#define VH_DB_WAL_BULK_BYTES (1024 * 1024) /* vh_db_close: a longer WAL after changes is truncated */

/* The schema version this build reads and writes: the newest migration
 * in sql/, a constant generated at configure time (schema_version.h), so
 * that no SQL text is linked into virtuald. */
int vh_db_schema_version(void);

/* Check that the database file, its -wal/-shm sidecars when present and
 * every directory above are trusted (path.h rule; THREATS E1-E5). The
 * callback, when given, receives every finding; returns 0 when trusted,
 * else -1 with e filled from the first finding (VH_EX_NOINPUT when the
 * file is missing, VH_EX_CONFIG otherwise). */
int vh_db_trust(const char *path, vh_err *e);

/* virtuald's open: trust check, read-only, no symlink following,
 * defensive, untrusted schema, busy timeout, application id and schema
 * version checked. Never creates the database (F1). Returns with a read
 * transaction open, so that what follows sees the snapshot whose version
 * was checked; vh_db_close ends it. */
int vh_db_open_runtime(const char *path, sqlite3 **out, vh_err *e);

/* Process-wide SQLite settings for virtuald, a single-threaded process
 * that lives for one lookup: no mutexes, no memory statistics, no bulk
 * page-cache allocation. Call before any other SQLite function; changes
 * nothing that is read or checked. */
void vh_db_runtime_tune(void);

/* End any open transaction (rolled back), checkpoint the WAL when this
 * connection changed anything (and truncate it after bulk work), close,
 * check the result. db may be NULL. */
int vh_db_close(sqlite3 *db, vh_err *e);

/* Turn an SQLite result on db into an error class and message. */
int vh_db_fail(sqlite3 *db, int rc, const char *what, vh_err *e);

/* BEGIN (deferred): one consistent snapshot for a multi-statement read. */
int vh_db_begin_read(sqlite3 *db, vh_err *e);
/* End the transaction open on db, if any (ROLLBACK). */
void vh_db_rollback(sqlite3 *db);

/* For both opens (and dbadmin.c): the connection settings of THREATS E8
 * (extended codes, defensive, untrusted schema, no extensions) and the
 * busy timeout; application_id and user_version (two PRAGMAs, in one
 * snapshot when the caller holds a transaction); the application id and
 * the schema version this build reads, checked, with the remedy named.
 * Each returns 0, or -1 with e. */
int vh_db_harden(sqlite3 *db, int busy_ms, vh_err *e);
int vh_db_read_ids(sqlite3 *db, int *appid, int *version, vh_err *e);
int vh_db_check_version(sqlite3 *db, const char *path, vh_err *e);

#endif
