/* row.h - one row of the database as virtuald reads it: the type, its
 * defaults, the checks every reader applies, and the column list the
 * lookup (select.h) and the lookup index (ixfmt.h) read. */
#ifndef VH_ROW_H
#define VH_ROW_H

#include "addr.h"
#include "valid.h"
#include "vherr.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define VH_MAX_GROUPS 64 /* supplementary groups stored per row */
#define VH_NAME_MAX 256  /* user and group names */
#define VH_COMMENT_MAX 1024

typedef struct vh_row {
    char service[VH_SERVICE_MAX + 1];
    char address[VH_KEY_TEXT]; /* the row's key: address, prefix, default, name or wildcard (addr.h) */
    char root[PATH_MAX];
    int has_user;           /* 0: root service (PRODUCT §8) */
    char user[VH_NAME_MAX]; /* names as resolved by vhostctl, for logs */
    char group[VH_NAME_MAX];
    uint32_t uid, gid; /* numbers: the runtime never asks NSS */
    uint32_t groups[VH_MAX_GROUPS];
    int ngroups;
    int enabled;
    int net_bind_service; /* 1: a root service keeps CAP_NET_BIND_SERVICE (K5) */
    uint32_t max_procs;   /* the domain's pids cgroup bound, 1..VH_MAX_PROCS_MAX (K10) */
    int unjailed;         /* 1: the operator chose a root that is no jail (sql/003 section 1) */
    /* sql/005 (issue 16): 0 no limit; sources grouped by these prefixes */
    uint32_t max_instances;  /* 0..VH_LIMITS_INSTANCES_MAX */
    uint32_t max_per_source; /* 0..VH_LIMITS_PER_SOURCE_MAX */
    unsigned source_prefix4; /* 8..32 */
    unsigned source_prefix6; /* 16..128 */
    /* sql/008 (issue 14 point 5): "" no base; else the absolute path of
     * the read-only system layer bound over the jail's code directories */
    char base[PATH_MAX];
    char comment[VH_COMMENT_MAX];
    char created[32], updated[32];
} vh_row;

/* The host ids every root service's user namespace maps its 0..65535
 * to (userns.h, issue 11): no row may use them (vh_row_valid), and no
 * host user should have them (vhostctl check, userns-range). */
#ifndef VH_USERNS_BASE
#define VH_USERNS_BASE 1879048192u /* 0x70000000: above systemd's container range, below its foreign range */
#endif
#define VH_USERNS_COUNT 65536u
#define VH_IN_USERNS_RANGE(id) ((uint32_t)(id) >= VH_USERNS_BASE && (uint32_t)(id)-VH_USERNS_BASE < VH_USERNS_COUNT)

/* Clear row and give it the schema's defaults (enabled, net_bind_service
 * 0, max_procs VH_MAX_PROCS_DEFAULT): every writer of a new row starts
 * here, so a setting it does not know is the default, never 0. */
void vh_row_init(vh_row *row);

/* The domains table's columns (sql/), written once: every statement that
 * names the columns of a whole row names them through these, and reads
 * or binds them by the indices below.
 *
 * VH_ROW_COLS: the columns virtuald reads, in the order vh_row_from_cols
 * takes them; the lookup (vh_select_sql) and the lookup index (ixfmt.h,
 * ixwrite.c) select exactly these. Their first VH_ROW_NBASE are what
 * every writer of a row gives (the legacy import too: the rest keep the
 * schema's defaults there); VH_ROW_ALL_COLS adds what only vhostctl
 * reads, the comment and the row's times. */
#define VH_ROW_BASE_COLS "service, address, root, user, grp, uid, gid, groups, enabled"
#define VH_ROW_COLS                                                                                                    \
    VH_ROW_BASE_COLS ", net_bind_service, max_procs, unjailed, max_instances, max_per_source, source_prefix4, "        \
                     "source_prefix6, base"
#define VH_ROW_ALL_COLS VH_ROW_COLS ", comment, created, updated"
#define VH_ROW_NCOLS 17

/* The index of each column in VH_ROW_ALL_COLS (and so in VH_ROW_COLS and
 * VH_ROW_BASE_COLS, which start it): for sqlite3_column_* as it is, for a
 * parameter ?N bound in the same order, plus one. */
enum vh_row_col {
    VH_ROW_COL_SERVICE,
    VH_ROW_COL_ADDRESS,
    VH_ROW_COL_ROOT,
    VH_ROW_COL_USER,
    VH_ROW_COL_GRP,
    VH_ROW_COL_UID,
    VH_ROW_COL_GID,
    VH_ROW_COL_GROUPS,
    VH_ROW_COL_ENABLED,
    VH_ROW_NBASE,
    VH_ROW_COL_NET_BIND_SERVICE = VH_ROW_NBASE,
    VH_ROW_COL_MAX_PROCS,
    VH_ROW_COL_UNJAILED,
    VH_ROW_COL_MAX_INSTANCES,
    VH_ROW_COL_MAX_PER_SOURCE,
    VH_ROW_COL_SOURCE_PREFIX4,
    VH_ROW_COL_SOURCE_PREFIX6,
    VH_ROW_COL_BASE,
    VH_ROW_COL_COMMENT,
    VH_ROW_COL_CREATED,
    VH_ROW_COL_UPDATED,
    VH_ROW_NALL
};
_Static_assert(VH_ROW_COL_BASE + 1 == VH_ROW_NCOLS, "VH_ROW_NCOLS is VH_ROW_COLS' count");

/* Check what virtuald is about to trust from a row: root syntax (and
 * the base's, when there is one: absolute, normalised, not "/", and only
 * on a row whose root is a jail), uid and
 * gid ranges (no 0, -1, 65535: THREATS B4), group list, net_bind_service
 * 0 or 1 and 1 only for a root service, max_procs in range, unjailed 0
 * or 1, the limits of sql/005 in their ranges. 0 or -1. */
int vh_row_valid(const vh_row *row, vh_err *e);

/* 1 when the row's service runs as root of a user namespace of its own
 * with an idmapped jail (userns.h, issue 11): a root service in a jail.
 * Not a run-as row, nor one that keeps CAP_NET_BIND_SERVICE (it counts
 * only in the host's user namespace), nor a root of "/" or an unjailed
 * row (the operator chose no jail): those stay as they are. */
int vh_row_userns(const vh_row *row);

/* Parse "1,2,3" into gids (at most VH_MAX_GROUPS, each 1..2^32-2).
 * Returns the count or -1. And format them back into out. */
int vh_row_groups_parse(const char *text, uint32_t *gids, vh_err *e);
void vh_row_groups_format(const uint32_t *gids, int n, char *out, size_t outlen);

/* A row from the VH_ROW_NCOLS columns of vh_select_sql as SQLite returns
 * them (sqlite3_column_text, _type, _int64; text NULL for SQL NULL), with
 * the checks every reader of a row applies: a value out of its range (a
 * hand-written row, a damaged file) refuses, never becomes a default.
 * Shared by the database lookup and the lookup index (ix.h), so that
 * both fill vh_row alike. */
int vh_row_from_cols(const char *const text[VH_ROW_NCOLS], const int type[VH_ROW_NCOLS],
                     const int64_t ival[VH_ROW_NCOLS], vh_row *row, vh_err *e);

#endif
