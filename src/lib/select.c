#include "select.h"

#include "db.h"
#include "exitcodes.h"

#include <sqlite3.h>
#include <stdint.h>

const char *vh_select_rule_name(int rule)
{
    switch (rule) {
    case VH_RULE_EXACT: return "exact";
    case VH_RULE_ANY_SERVICE: return "any-service";
    case VH_RULE_DEFAULT: return "default";
    case VH_RULE_ANY_DEFAULT: return "any-service-default";
    default: return "none";
    }
}

/* The selection: one primary-key seek per candidate of PRODUCT §3, in
 * rule order, until one exists. One simple statement, reset and bound
 * anew for each probe; usually the first probe decides. (The former
 * single statement over all four candidates, with IN lists and ORDER BY,
 * built two ephemeral tables and a sorter on every run: a quarter of
 * virtuald's instructions, bench/REPORT.md.) */
const char vh_select_sql[] = "SELECT " VH_ROW_COLS " FROM domains WHERE service = ?1 AND address = ?2";

/* Copy the current row of st into row; 0, or -1 with e filled. */
static int read_row(sqlite3_stmt *st, vh_row *row, vh_err *e)
{
    const char *text[VH_ROW_NCOLS];
    int type[VH_ROW_NCOLS];
    int64_t ival[VH_ROW_NCOLS];
    for (int i = 0; i < VH_ROW_NCOLS; i++) {
        type[i] = sqlite3_column_type(st, i);
        ival[i] = sqlite3_column_int64(st, i);
        text[i] = (const char *)sqlite3_column_text(st, i);
    }
    return vh_row_from_cols(text, type, ival, row, e);
}

int vh_select(sqlite3 *db, const char *service, const char *address, vh_row *row, vh_err *e)
{
    /* The probes' rule order: VH_RULE_EXACT .. VH_RULE_ANY_DEFAULT. */
    const char *const svc[4] = {service, "*", service, "*"};
    const char *const adr[4] = {address, address, "default", "default"};
    sqlite3_stmt *st = NULL;
    int result = -1;
    /* All probes in one read transaction - the caller's (virtuald's, from
     * vh_db_open_runtime) or one opened here: the decided row and the
     * absence of every better candidate come from one snapshot (I3). */
    int own_txn = sqlite3_get_autocommit(db);
    if (own_txn && vh_db_begin_read(db, e) < 0)
        return -1;
    int rc = sqlite3_prepare_v2(db, vh_select_sql, sizeof vh_select_sql, &st, NULL);
    if (rc != SQLITE_OK) {
        vh_db_fail(db, rc, "preparing the lookup", e);
        goto out;
    }
    for (int i = 0; i < 4; i++) {
        if ((rc = sqlite3_reset(st)) != SQLITE_OK ||
            (rc = sqlite3_bind_text(st, 1, svc[i], -1, SQLITE_STATIC)) != SQLITE_OK ||
            (rc = sqlite3_bind_text(st, 2, adr[i], -1, SQLITE_STATIC)) != SQLITE_OK) {
            vh_db_fail(db, rc, "binding the lookup", e);
            goto out;
        }
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            continue;
        if (rc != SQLITE_ROW) {
            vh_db_fail(db, rc, "looking up the domain", e);
            goto out;
        }
        if (read_row(st, row, e) < 0)
            goto out;
        /* a second row would mean the primary key is not what we think */
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            vh_db_fail(db, rc == SQLITE_ROW ? SQLITE_CORRUPT : rc, "finishing the lookup", e);
            goto out;
        }
        result = VH_RULE_EXACT + i;
        goto out;
    }
    result = VH_RULE_NONE;
out:
    rc = sqlite3_finalize(st);
    if (rc != SQLITE_OK && result >= 0)
        result = vh_db_fail(db, rc, "finishing the lookup", e);
    if (own_txn)
        vh_db_rollback(db);
    return result;
}
