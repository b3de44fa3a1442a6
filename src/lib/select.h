/* select.h - the selection rules of PRODUCT §3 on the database. */
#ifndef VH_SELECT_H
#define VH_SELECT_H

#include "addr.h"
#include "row.h"
#include "vherr.h"

#include <stdint.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

/* Which rule of PRODUCT §3 (and fleet.md 3.3) decided. The numbers name
 * rules; the order in which they are tried is vh_select_probes'. */
enum vh_rule {
    VH_RULE_NONE = 0,
    VH_RULE_EXACT = 1,       /* service and address */
    VH_RULE_ANY_SERVICE = 2, /* '*' and address */
    VH_RULE_DEFAULT = 3,     /* service and 'default' */
    VH_RULE_ANY_DEFAULT = 4, /* '*' and 'default' */
    VH_RULE_PREFIX = 5,      /* service and the longest prefix in use holding the address (issue 15) */
    VH_RULE_PREFIX_ANY = 6,  /* '*' and that prefix; tried after PREFIX at each length */
    /* issue 17: the TLS server name or PROXY AUTHORITY, tried after the
     * exact address and before prefixes (fleet.md 3.3) */
    VH_RULE_NAME = 7,          /* service and the name */
    VH_RULE_NAME_ANY = 8,      /* '*' and the name */
    VH_RULE_WILDCARD = 9,      /* service and '*.' + the name without its first label */
    VH_RULE_WILDCARD_ANY = 10, /* '*' and that wildcard */
};

const char *vh_select_rule_name(int rule);

/* Prefix lengths in use (sql/004 prefix_lengths; the index header keeps
 * the same bits): bit p of v4 for IPv4 /p, bit p%64 of v6[p/64] for IPv6. */
typedef struct vh_prefix_lens {
    uint64_t v4;
    uint64_t v6[2];
} vh_prefix_lens;

/* One candidate key, in the order it is tried. */
typedef struct vh_probe {
    const char *svc;       /* the service or "*" */
    char key[VH_KEY_TEXT]; /* the address, a prefix key, a name, a wildcard, or "default" */
    int rule;              /* enum vh_rule */
    unsigned plen;         /* prefix length for the PREFIX rules, else 0 */
} vh_probe;

/* Most candidates: exact and any-service, the four of a name, two per
 * IPv6 prefix length, and the two defaults. */
#define VH_PROBES_MAX (2 + 4 + 2 * 127 + 2)

/* Flags of vh_select_probes and vh_select. */
#define VH_SELECT_NO_DEFAULT 1 /* direct from a balancer (fleet.md 1.5): never a default row */

/* The candidates for service on address (canonical; "default" never)
 * and name (a host name normalised by hostname.h, or NULL or "" when the
 * connection brought none), in rule order: (service, address), ('*',
 * address), then when there is a name of two labels or more (service,
 * name), ('*', name),
 * and when the name has three labels or more (service, W), ('*', W)
 * with W the name with its first label replaced by '*'; then for each
 * prefix length in lens of address's family, longest first, (service,
 * prefix) and ('*', prefix), then (service, default) and ('*', default)
 * unless VH_SELECT_NO_DEFAULT. Pure. Returns how many (at most
 * VH_PROBES_MAX), or -1 when address is not an IP address. */
int vh_select_probes(const char *service, const char *address, const char *name, const vh_prefix_lens *lens, int flags,
                     vh_probe out[VH_PROBES_MAX]);

/* The prefix lengths of table tbl ("domains" or "proxy_sources") in use
 * now, from prefix_lengths, in the caller's read transaction. 0 or -1. */
int vh_select_lens(sqlite3 *db, const char *tbl, vh_prefix_lens *lens, vh_err *e);

/* Find the row that decides a connection to service on address (both
 * already canonical) with name (as vh_select_probes, or NULL). One prepared statement (vh_select_sql), one primary
 * key seek per candidate in rule order (J5), all in one read transaction
 * with the prefix lengths: every column of the decision comes from one
 * snapshot (THREATS I3). Returns the rule, 0 when nothing matches, -1 on
 * a database error. The row (and *plen, when not NULL, for a prefix
 * rule) is filled only when a rule matched. */
int vh_select(sqlite3 *db, const char *service, const char *address, const char *name, int flags, vh_row *row,
              unsigned *plen, vh_err *e);
extern const char vh_select_sql[];

/* The current row of st, whose columns are VH_ROW_COLS in that order,
 * into row with the checks of vh_row_from_cols. 0, or -1 with e. */
int vh_select_read_row(sqlite3_stmt *st, vh_row *row, vh_err *e);

/* The PROXY trust of a peer for a service (sql/004 proxy_sources):
 * the same candidate order as a domain (exact address, then prefixes
 * longest first; the service before '*'; never a default), first match
 * decides. */
typedef struct vh_trust {
    int any;                   /* proxy_sources has rows at all; 0: nothing of issue 15 runs */
    int versions;              /* 0: the peer is not trusted for the service; else bit 0 v1, bit 1 v2 */
    char svc[68];              /* the deciding row's service, when trusted */
    char source[VH_ADDR_TEXT]; /* and its source key */
} vh_trust;

/* The trust of peer (canonical address) for service from the database,
 * in the caller's read transaction (or one of its own). 0 or -1. */
int vh_select_trust(sqlite3 *db, const char *service, const char *peer, vh_trust *t, vh_err *e);

#endif
