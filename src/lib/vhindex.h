/* vhindex.h - the lookup index: a read-only copy of the rows virtuald
 * reads, kept by vhostctl beside the database (DB-index), that answers a
 * connection without SQLite. SQLite stays the only source of truth: the
 * index carries the identity of the database state it was made from (the
 * WAL-index header, the database file's header and inode, size and
 * times), and virtuald uses it only when the database it finds now has
 * exactly that identity; anything else - no index, another identity, a
 * writer in the middle of an update, a malformed file - sends it to the
 * database as before. doc/design.md "The lookup index" has the argument. */
#ifndef VH_VHINDEX_H
#define VH_VHINDEX_H

#include "domain.h"
#include "err.h"

#include <stdint.h>

typedef struct sqlite3 sqlite3;

#define VH_IX_SUFFIX "-index"

/* vh_ix_select's answer when the index cannot answer (virtuald then asks
 * the database); *why names the reason. */
#define VH_IX_STALE (-2)

/* virtuald: the four candidates of PRODUCT §3 from the index of dbpath
 * (which the caller has trust-checked). Returns the deciding rule
 * (VH_RULE_NONE .. VH_RULE_ANY_DEFAULT, row filled when > 0) as vh_select
 * would on the same database state; VH_IX_STALE when the index cannot
 * answer; -1 with e filled when it must refuse (an index file that is not
 * root's, or writable by others, or not a regular file: THREATS E1). */
int vh_ix_select(const char *dbpath, const char *service, const char *address, vh_row *row, const char **why,
                 vh_err *e);

/* A (service, address) key changed by a vhostctl command. */
typedef struct vh_ix_key {
    const char *service;
    const char *address;
} vh_ix_key;

/* What vh_ix_begin learnt for vh_ix_finish. */
typedef struct vh_ix_txn {
    int base_ok;            /* the index described the database as the change began */
    uint64_t ino;           /* the index file it checked */
    int64_t data_version;   /* PRAGMA data_version as the change began */
} vh_ix_txn;

/* vhostctl, right after BEGIN IMMEDIATE of a change, on that connection
 * (db, the file dbpath): note whether the index describes the database as
 * it is, then mark the index stale and sync it, before anything can
 * commit - a crash from here on leaves an index that claims nothing.
 * Returns 0, or -1 with e when the index cannot be marked (the caller
 * rolls back: no change without it). */
int vh_ix_begin(sqlite3 *db, const char *dbpath, vh_ix_txn *t, vh_err *e);

/* vhostctl, after COMMIT, on the same connection with no transaction
 * open: empty the WAL when no reader is in the way, take the write lock,
 * and bring the index up to date - in place for the rows of keys when
 * vh_ix_begin proved the index current and no other connection committed
 * since (PRAGMA data_version), else rebuilt from every row into a new
 * file renamed over the old. t NULL: rebuild. Returns 0, or -1 with e
 * (the index then stays stale; virtuald reads the database). */
int vh_ix_finish(sqlite3 *db, const char *dbpath, const vh_ix_txn *t, const vh_ix_key *keys, int nkeys, vh_err *e);

/* Mark the index of dbpath stale and sync it (vhostctl init, before a
 * schema migration). 0, or -1 with e. */
int vh_ix_mark_stale(const char *dbpath, vh_err *e);

/* Rebuild through a connection of its own (vhostctl init, tests). */
int vh_ix_rebuild(const char *dbpath, vh_err *e);

/* For vhostctl check and tests: 1 when virtuald would answer from the
 * index of dbpath right now, 0 when it would read the database (*why
 * says why); -1 with e filled when the index is untrusted. */
int vh_ix_current(const char *dbpath, const char **why, vh_err *e);

#endif
