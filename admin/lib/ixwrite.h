/* ixwrite.h - the lookup index, vhostctl's side (src/lib/ix.h is
 * virtuald's): marking it stale before a change, bringing it up to date
 * after, rebuilding it. */
#ifndef VH_IXWRITE_H
#define VH_IXWRITE_H

#include "vherr.h"

#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* A (service, address) key changed by a vhostctl command. */
typedef struct vh_ixwrite_key {
    const char *service;
    const char *address;
} vh_ixwrite_key;

/* What vh_ixwrite_begin learnt for vh_ixwrite_finish. */
typedef struct vh_ixwrite_txn {
    int base_ok;          /* the index described the database as the change began */
    uint64_t ino;         /* the index file it checked */
    int64_t data_version; /* PRAGMA data_version as the change began */
} vh_ixwrite_txn;

/* vhostctl, right after BEGIN IMMEDIATE of a change, on that connection
 * (db, the file dbpath): note whether the index describes the database as
 * it is, then mark the index stale and sync it, before anything can
 * commit - a crash from here on leaves an index that claims nothing.
 * Returns 0, or -1 with e when the index cannot be marked (the caller
 * rolls back: no change without it). */
int vh_ixwrite_begin(sqlite3 *db, const char *dbpath, vh_ixwrite_txn *t, vh_err *e);

/* vhostctl, after COMMIT, on the same connection with no transaction
 * open: empty the WAL when no reader is in the way, take the write lock,
 * and bring the index up to date - in place for the rows of keys when
 * vh_ixwrite_begin proved the index current and no other connection committed
 * since (PRAGMA data_version), else rebuilt from every row into a new
 * file renamed over the old. t NULL: rebuild. keys not NULL with nkeys
 * 0: no row changed, only what the header keeps (sql/004: proxy_sources,
 * prefix lengths), rewritten in place. Either way the header's format-4
 * fields are read in the same transaction as the rows. Returns 0, or -1
 * with e (the index then stays stale; virtuald reads the database). */
int vh_ixwrite_finish(sqlite3 *db, const char *dbpath, const vh_ixwrite_txn *t, const vh_ixwrite_key *keys, int nkeys,
                      vh_err *e);

/* Mark the index of dbpath stale and sync it (vhostctl init, before a
 * schema migration). 0, or -1 with e. */
int vh_ixwrite_mark_stale(const char *dbpath, vh_err *e);

/* Rebuild through a connection of its own (vhostctl init, tests). */
int vh_ixwrite_rebuild(const char *dbpath, vh_err *e);

#endif
