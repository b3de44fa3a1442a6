/* fleet.h - many hosts, one configuration (issue 18, fleet.md 5.3; the
 * schema's `fleet` row): roles, the generation a master counts, the
 * snapshot a master publishes and the sync a replica applies.
 *
 * The fleet's tables are domains and proxy_sources (prefix_lengths
 * follows them by its triggers); the rest of the database (history,
 * accepted findings, settings, jail manifests) is the host's own. A
 * replica changes the fleet's tables only by vh_fleet_sync; a master
 * counts one generation per change of them (vh_fleet_begin). */
#ifndef VH_FLEET_H
#define VH_FLEET_H

#include "ixwrite.h"
#include "vherr.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sqlite3 sqlite3;

#define VH_FLEET_ID_MAX 64

typedef struct vh_fleet {
    char role[16]; /* standalone, master, replica */
    char fleet_id[VH_FLEET_ID_MAX + 1];
    char master_id[33]; /* master: its own; replica: the one it follows; "" none yet */
    int64_t generation;
    char changed[32];   /* when the generation was made on the master */
    char synced_at[32]; /* replica: the last sync, good or not; "" never */
    char sync_file[PATH_MAX];
    char sync_error[1024]; /* "" after a good sync */
} vh_fleet;

/* A fleet id: 1..64 of letters, digits, '.', '_', '-'. 0 or -1 (VH_EX_USAGE). */
int vh_fleet_id_valid(const char *id, vh_err *e);

/* The fleet row of schema ("main", or an attached "snap"). 0 or -1. */
int vh_fleet_read(sqlite3 *db, const char *schema, vh_fleet *f, vh_err *e);

/* Begin a change of the fleet's tables (BEGIN IMMEDIATE): refused on a
 * replica, naming the fleet and what to do; on a master the generation
 * goes up by one in the same transaction (rolled back with it). 0, or
 * -1 with e (no transaction open then). */
int vh_fleet_begin(sqlite3 *db, vh_err *e);

/* In the caller's transaction: set the role (and fleet id: required for
 * master and replica, "" for standalone). 0 or -1. */
int vh_fleet_set_role(sqlite3 *db, const char *role, const char *fleet_id, vh_err *e);

/* Publish: a consistent, compact copy of the master's database at dbpath
 * into the trusted directory outdir, as vhosts-G.db (G its generation),
 * made by VACUUM INTO (writers go on meanwhile), cleared of the host's
 * own tables' rows, in rollback-journal mode, synced and renamed into
 * place; then outdir/LATEST names it. made gets its path, *gen G. */
int vh_fleet_snapshot(const char *dbpath, const char *outdir, char *made, size_t n, int64_t *gen, vh_err *e);

typedef struct vh_sync_result {
    int64_t from, to; /* generations */
    unsigned long added, removed, changed, same;
    unsigned long sources_added, sources_removed;
    vh_ixwrite_key *keys; /* the domains rows changed (malloc'd, strings too); NULL: too many */
    int nkeys;
    int stale;   /* refused as older than this host's generation (no fault of this host) */
    int cleared; /* the generation this host has, after a failed sync: the error cleared */
} vh_sync_result;

/* Most changed rows brought into the index in place; more: rebuilt. */
#define VH_SYNC_INDEX_KEYS 1000

/* Apply the snapshot at path to the replica open on db (vh_dbadmin_open),
 * in one transaction left open on success for the caller to commit (with
 * its history row): the snapshot's trust (as a database), application id,
 * schema version, integrity, schema exactly ours, master role, the same
 * fleet id, a generation newer than ours (unless force), and every run-as
 * user and group resolving here to the stored numbers (else each drifting
 * row is written to drift, one line each, and the sync refused). Then the
 * differences: rows gone deleted, rows new or different written; the
 * fleet row takes the snapshot's generation. 0 with r filled; 1 when the
 * snapshot is the generation this host has already: nothing done, no
 * transaction open - unless the last sync had failed, when its error is
 * cleared in a transaction left open for the caller (r->cleared); -1 with e and nothing changed (no transaction
 * open), r->stale set when only its generation was older. */
int vh_fleet_sync(sqlite3 *db, const char *path, int force, FILE *drift, vh_sync_result *r, vh_err *e);
void vh_sync_result_free(vh_sync_result *r);

/* After a failed sync, in a transaction of the caller's own: record why
 * in the fleet row. 0 or -1. */
int vh_fleet_record_error(sqlite3 *db, const char *path, const char *why, vh_err *e);

#endif
