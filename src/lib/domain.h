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
    char comment[VH_COMMENT_MAX];
    char created[32], updated[32];
} vh_row;

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
 * gid ranges (no 0, -1, 65535: THREATS B4), group list. 0 or -1. */
int vh_row_valid(const vh_row *row, vh_err *e);

/* Parse "1,2,3" into gids (at most VH_MAX_GROUPS, each 1..2^32-2).
 * Returns the count or -1. And format them back into out. */
int vh_groups_parse(const char *text, uint32_t *gids, vh_err *e);
void vh_groups_format(const uint32_t *gids, int n, char *out, size_t outlen);

/* What virtuald decides for one connection: the row and the rule, or a
 * refusal. The same function answers `vhostctl lookup`. */
/* A row from the nine columns of vh_select_sql as SQLite returns them
 * (sqlite3_column_text, _type, _int64; text NULL for SQL NULL), with the
 * checks every reader of a row applies. Shared by the database lookup and
 * the lookup index (vhindex.h), so that both fill vh_row alike. */
int vh_row_from_cols(const char *const text[9], const int type[9], const int64_t ival[9], vh_row *row, vh_err *e);

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
