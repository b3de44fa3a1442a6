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

/* vhostctl, after its change is committed and its connection closed:
 * bring the index of dbpath up to date. keys/nkeys: the rows the change
 * touched (updated in place), or NULL for a rebuild; gen0/gen1: the
 * generation at the start and at the end of the change (0 when unknown:
 * rebuild). Takes SQLite's write lock for the update, so index writers
 * queue like database writers. Returns 0, or -1 with e filled; on failure
 * the index is left marked stale (never claiming a state it does not
 * hold) and virtuald reads the database. */
int vh_ix_refresh(const char *dbpath, const vh_ix_key *keys, int nkeys, int64_t gen0, int64_t gen1, vh_err *e);

/* The database's generation (vh_meta, schema version 2), read on db
 * inside the caller's transaction; -1 with e filled when unreadable. */
int64_t vh_ix_generation(sqlite3 *db, vh_err *e);

/* Bulk changes (import, migrate-inetd) inside their write transaction:
 * begin takes sql/002's generation triggers off the domains table (one
 * trigger run per row doubles a million-row import), end puts them back
 * exactly as they were and moves the generation once. Both inside the
 * one transaction: no other connection ever sees the table without them.
 * 0, or -1 with e filled (the caller rolls back). */
typedef struct vh_ix_bulk {
    int n;
    char *sql[3];
} vh_ix_bulk;
int vh_ix_bulk_begin(sqlite3 *db, vh_ix_bulk *b, vh_err *e);
int vh_ix_bulk_end(sqlite3 *db, vh_ix_bulk *b, vh_err *e);
/* Free what begin kept, when end is not reached (rollback). */
void vh_ix_bulk_free(vh_ix_bulk *b);

/* For vhostctl check and tests: 1 when virtuald would answer from the
 * index of dbpath right now, 0 when it would read the database (*why
 * says why); -1 with e filled when the index is untrusted. */
int vh_ix_current(const char *dbpath, const char **why, vh_err *e);

#endif
