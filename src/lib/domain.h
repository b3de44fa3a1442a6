/* domain.h - one row of the database, and the selection rules of
 * PRODUCT §3. */
#ifndef VH_DOMAIN_H
#define VH_DOMAIN_H

#include "addr.h"
#include "err.h"
#include "valid.h"

#include <limits.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

#define VH_MAX_GROUPS 64   /* supplementary groups stored per row */
#define VH_NAME_MAX 256    /* user and group names */
#define VH_COMMENT_MAX 1024

typedef struct vh_row {
    char service[VH_SERVICE_MAX + 1];
    char address[VH_ADDR_TEXT];
    char root[PATH_MAX];
    int has_user;                  /* 0: root service (PRODUCT §8) */
    char user[VH_NAME_MAX];        /* names as resolved by vhostctl, for logs */
    char group[VH_NAME_MAX];
    uint32_t uid, gid;             /* numbers: the runtime never asks NSS */
    uint32_t groups[VH_MAX_GROUPS];
    int ngroups;
    int enabled;
    int net_bind_service;          /* 1: a root service keeps CAP_NET_BIND_SERVICE (K5) */
    uint32_t max_procs;            /* the domain's pids cgroup bound, 1..VH_MAX_PROCS_MAX (K10) */
    char comment[VH_COMMENT_MAX];
    char created[32], updated[32];
} vh_row;

/* Clear row and give it the schema's defaults (enabled, net_bind_service
 * 0, max_procs VH_MAX_PROCS_DEFAULT): every writer of a new row starts
 * here, so a setting it does not know is the default, never 0. */
void vh_row_init(vh_row *row);

/* The columns virtuald reads, in the order vh_row_from_cols takes them:
 * the lookup (vh_select_sql) and the lookup index (vhindex.c) select
 * exactly these. */
#define VH_ROW_COLS "service, address, root, user, grp, uid, gid, groups, enabled, net_bind_service, max_procs"
#define VH_ROW_NCOLS 11

/* Which rule of PRODUCT §3 decided. */
enum vh_rule {
    VH_RULE_NONE = 0,
    VH_RULE_EXACT = 1,        /* service and address */
    VH_RULE_ANY_SERVICE = 2,  /* '*' and address */
    VH_RULE_DEFAULT = 3,      /* service and 'default' */
    VH_RULE_ANY_DEFAULT = 4,  /* '*' and 'default' */
};

const char *vh_rule_name(int rule);

/* Find the row that decides a connection to service on address (both
 * already canonical). One prepared statement (vh_select_sql), one primary
 * key seek per candidate in rule order (J5), all in one read transaction:
 * every column of the decision comes from one snapshot (THREATS I3).
 * Returns the rule (1-4), 0 when nothing matches, -1 on a database error.
 * The row is filled only when a rule matched. */
int vh_select(sqlite3 *db, const char *service, const char *address, vh_row *row, vh_err *e);
extern const char vh_select_sql[];

/* Check what virtuald is about to trust from a row: root syntax, uid and
 * gid ranges (no 0, -1, 65535: THREATS B4), group list, net_bind_service
 * 0 or 1 and 1 only for a root service, max_procs in range. 0 or -1. */
int vh_row_valid(const vh_row *row, vh_err *e);

/* Parse "1,2,3" into gids (at most VH_MAX_GROUPS, each 1..2^32-2).
 * Returns the count or -1. And format them back into out. */
int vh_groups_parse(const char *text, uint32_t *gids, vh_err *e);
void vh_groups_format(const uint32_t *gids, int n, char *out, size_t outlen);

/* A row from the VH_ROW_NCOLS columns of vh_select_sql as SQLite returns
 * them (sqlite3_column_text, _type, _int64; text NULL for SQL NULL), with
 * the checks every reader of a row applies: a value out of its range (a
 * hand-written row, a damaged file) refuses, never becomes a default.
 * Shared by the database lookup and the lookup index (vhindex.h), so that
 * both fill vh_row alike. */
int vh_row_from_cols(const char *const text[VH_ROW_NCOLS], const int type[VH_ROW_NCOLS],
                     const int64_t ival[VH_ROW_NCOLS], vh_row *row, vh_err *e);

/* What virtuald decides for one connection: the row and the rule, or a
 * refusal. The same function answers `vhostctl lookup`. */
typedef struct vh_decision {
    int rule;     /* 0 when nothing matched */
    vh_row row;   /* valid when rule != 0 */
    int from_index;          /* 1: answered by the lookup index */
    const char *index_why;   /* else why the index could not answer */
} vh_decision;

/* Open the database for reading with every trust check, select, close.
 * Returns 0 when the connection is to be served; -1 when refused, with e
 * filled: VH_EX_NOHOST no row, VH_EX_UNAVAILABLE the deciding row is
 * disabled (never a fall-through to a default), VH_EX_CONFIG and friends
 * for database faults. d->rule tells whether a row decided. */
int vh_decide(const char *dbpath, const char *service, const char *address, vh_decision *d, vh_err *e);

#endif
