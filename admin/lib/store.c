#include "store.h"

#include "db.h"
#include "exitcodes.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Bind every column of row to st as ?N = column N - 1 of VH_ROW_ALL_COLS
 * (row.h), the times left out; groups is the caller's buffer for the
 * formatted list, alive until the statement has run. The settings are
 * bound as they are: a value out of range is the schema's CHECK failure,
 * never quietly a default. vh_store_add and vh_store_update share it. */
static void bind_row(sqlite3_stmt *st, const vh_row *row, char *groups, size_t n)
{
    vh_row_groups_format(row->groups, row->ngroups, groups, n);
#define P(col) (VH_ROW_COL_##col + 1)
    sqlite3_bind_text(st, P(SERVICE), row->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, P(ADDRESS), row->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, P(ROOT), row->root, -1, SQLITE_STATIC);
    if (row->has_user) {
        sqlite3_bind_text(st, P(USER), row->user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, P(GRP), row->group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, P(UID), row->uid);
        sqlite3_bind_int64(st, P(GID), row->gid);
    }
    sqlite3_bind_text(st, P(GROUPS), row->has_user ? groups : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, P(ENABLED), row->enabled ? 1 : 0);
    sqlite3_bind_int(st, P(NET_BIND_SERVICE), row->net_bind_service);
    sqlite3_bind_int64(st, P(MAX_PROCS), row->max_procs);
    sqlite3_bind_int(st, P(UNJAILED), row->unjailed);
    sqlite3_bind_int64(st, P(MAX_INSTANCES), row->max_instances);
    sqlite3_bind_int64(st, P(MAX_PER_SOURCE), row->max_per_source);
    sqlite3_bind_int64(st, P(SOURCE_PREFIX4), row->source_prefix4);
    sqlite3_bind_int64(st, P(SOURCE_PREFIX6), row->source_prefix6);
    if (row->base[0]) /* else NULL: no base (sql/008) */
        sqlite3_bind_text(st, P(BASE), row->base, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, P(COMMENT), row->comment, -1, SQLITE_STATIC);
#undef P
}

int vh_store_add(sqlite3 *db, const vh_row *row, vh_err *e)
{
    /* ?N is column N - 1 of VH_ROW_ALL_COLS (row.h): bind_row */
    static const char sql[] =
        "INSERT INTO domains (" VH_ROW_COLS ", comment)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";
    sqlite3_stmt *st = NULL;
    char groups[VH_MAX_GROUPS * 12];
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "preparing insert", e);
    bind_row(st, row, groups, sizeof groups);
    rc = sqlite3_step(st);
    int result = 0;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        result = vh_fail(e, VH_EX_DATAERR,
                         "a domain for service %s on %s already exists - change it in place with vhostctl set %s %s "
                         "(--root, --user, ... in one transaction)",
                         row->service, row->address, row->service, row->address);
    else if (rc != SQLITE_DONE)
        result = vh_db_fail(db, rc, "inserting the domain", e);
    sqlite3_finalize(st);
    return result;
}

static int one_row_change(sqlite3 *db, const char *sql, size_t len, const char *service, const char *address,
                          int with_int, int ival, const char *what, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, (int)len, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, what, e);
    sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
    if (with_int)
        sqlite3_bind_int(st, 3, ival);
    rc = sqlite3_step(st);
    int result = 0;
    if (rc != SQLITE_DONE)
        result = vh_db_fail(db, rc, what, e);
    else if (sqlite3_changes(db) == 0)
        result = vh_fail(e, VH_EX_NOHOST, "no domain for service %s on %s - see vhostctl list", service, address);
    sqlite3_finalize(st);
    return result;
}

int vh_store_remove(sqlite3 *db, const char *service, const char *address, vh_err *e)
{
    static const char sql[] = "DELETE FROM domains WHERE service = ?1 AND address = ?2";
    return one_row_change(db, sql, sizeof sql, service, address, 0, 0, "removing the domain", e);
}

int vh_store_set_limits(sqlite3 *db, const char *service, const char *address, int net_bind_service, uint32_t max_procs,
                        vh_err *e)
{
    static const char user_sql[] = "SELECT user IS NOT NULL FROM domains WHERE service = ?1 AND address = ?2";
    static const char sql[] =
        "UPDATE domains SET net_bind_service = coalesce(?3, net_bind_service), max_procs = coalesce(?4, max_procs),"
        " updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE service = ?1 AND address = ?2";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, user_sql, sizeof user_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the domain", e);
    sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int run_as = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return vh_fail(e, VH_EX_NOHOST, "no domain for service %s on %s - see vhostctl list", service, address);
    if (rc != SQLITE_ROW)
        return vh_db_fail(db, rc, "reading the domain", e);
    /* the schema's CHECK refuses it too; this says why */
    if (run_as && net_bind_service == 1)
        return vh_fail(
            e, VH_EX_DATAERR,
            "domain %s %s runs as a user, which has no capabilities - --net-bind-service is for root services "
            "(add the domain without --user)",
            service, address);
    if ((rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL)) != SQLITE_OK)
        return vh_db_fail(db, rc, "changing the domain", e);
    sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
    if (net_bind_service >= 0)
        sqlite3_bind_int(st, 3, net_bind_service);
    if (max_procs)
        sqlite3_bind_int64(st, 4, max_procs);
    rc = sqlite3_step(st);
    int result = 0;
    if (rc != SQLITE_DONE)
        result = vh_db_fail(db, rc, "changing the domain", e);
    sqlite3_finalize(st);
    return result;
}

int vh_store_set_enabled(sqlite3 *db, const char *service, const char *address, int enabled, vh_err *e)
{
    static const char sql[] = "UPDATE domains SET enabled = ?3, updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                              " WHERE service = ?1 AND address = ?2";
    return one_row_change(db, sql, sizeof sql, service, address, 1, enabled ? 1 : 0, "changing the domain", e);
}

/* Both listings walk the primary key in order - (service, address), no
 * sorting - and hold back the one 'default' row of a service until the
 * service's last row has gone out, so that 'default' comes last. (ORDER BY
 * service, address = 'default', address made SQLite sort every row: its
 * sorter's memory grew with the table, bench/REPORT.md.) Constant memory
 * at any number of rows: the page cache and one held row. */
const char vh_store_each_sql[] = "SELECT " VH_ROW_ALL_COLS " FROM domains"
                                 " WHERE ?1 IS NULL OR service = ?1 ORDER BY service, address";

const char vh_store_each_json_sql[] = "SELECT service, address, " VH_STORE_JSON_OBJECT " FROM domains"
                                      " WHERE ?1 IS NULL OR service = ?1 ORDER BY service, address";
/* vh_store_each_both: the row's columns, then its object */
static const char each_both_sql[] = "SELECT " VH_ROW_ALL_COLS ", " VH_STORE_JSON_OBJECT " FROM domains"
                                    " WHERE ?1 IS NULL OR service = ?1 ORDER BY service, address";

static void col(sqlite3_stmt *st, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

/* The columns of VH_ROW_ALL_COLS of st's current row into *row. */
static void read_row(sqlite3_stmt *st, vh_row *row)
{
    memset(row, 0, sizeof *row);
    col(st, VH_ROW_COL_SERVICE, row->service, sizeof row->service);
    col(st, VH_ROW_COL_ADDRESS, row->address, sizeof row->address);
    col(st, VH_ROW_COL_ROOT, row->root, sizeof row->root);
    row->has_user = sqlite3_column_type(st, VH_ROW_COL_USER) != SQLITE_NULL;
    col(st, VH_ROW_COL_USER, row->user, sizeof row->user);
    col(st, VH_ROW_COL_GRP, row->group, sizeof row->group);
    row->uid = (uint32_t)sqlite3_column_int64(st, VH_ROW_COL_UID);
    row->gid = (uint32_t)sqlite3_column_int64(st, VH_ROW_COL_GID);
    const unsigned char *g = sqlite3_column_text(st, VH_ROW_COL_GROUPS);
    vh_err ge;
    int n = vh_row_groups_parse(g ? (const char *)g : "", row->groups, &ge);
    row->ngroups = n < 0 ? 0 : n;
    row->enabled = sqlite3_column_int(st, VH_ROW_COL_ENABLED);
    col(st, VH_ROW_COL_COMMENT, row->comment, sizeof row->comment);
    col(st, VH_ROW_COL_CREATED, row->created, sizeof row->created);
    col(st, VH_ROW_COL_UPDATED, row->updated, sizeof row->updated);
    row->net_bind_service = sqlite3_column_int(st, VH_ROW_COL_NET_BIND_SERVICE);
    row->max_procs = (uint32_t)sqlite3_column_int64(st, VH_ROW_COL_MAX_PROCS);
    row->unjailed = sqlite3_column_int(st, VH_ROW_COL_UNJAILED);
    row->max_instances = (uint32_t)sqlite3_column_int64(st, VH_ROW_COL_MAX_INSTANCES);
    row->max_per_source = (uint32_t)sqlite3_column_int64(st, VH_ROW_COL_MAX_PER_SOURCE);
    row->source_prefix4 = (unsigned)sqlite3_column_int64(st, VH_ROW_COL_SOURCE_PREFIX4);
    row->source_prefix6 = (unsigned)sqlite3_column_int64(st, VH_ROW_COL_SOURCE_PREFIX6);
    col(st, VH_ROW_COL_BASE, row->base, sizeof row->base);
}

/* What each() gives its callback: the row, its JSON text, or both. */
enum mode { ROW, JSON, BOTH };

/* The held-back 'default' row of the current service. */
struct held {
    int have;
    char service[VH_SERVICE_MAX + 1];
    char *json; /* JSON, BOTH: the object's text (malloc'd) */
    vh_row row; /* ROW, BOTH */
};

static int emit(enum mode json, void *cb, void *ctx, const char *text, const vh_row *row)
{
    return json == BOTH ? ((vh_row_text_cb)cb)(ctx, row, text)
           : json       ? ((vh_text_cb)cb)(ctx, text)
                        : ((vh_row_cb)cb)(ctx, row);
}

/* Give the held row to cb; returns cb's result. */
static int flush(struct held *h, enum mode json, void *cb, void *ctx)
{
    if (!h->have)
        return 0;
    h->have = 0;
    int stop = emit(json, cb, ctx, h->json, &h->row);
    free(h->json);
    h->json = NULL;
    return stop;
}

static int each(sqlite3 *db, const char *sql, size_t len, const char *service, enum mode json, void *cb, void *ctx,
                vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, (int)len, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "listing domains", e);
    if (service)
        sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    int result = 0, stop = 0;
    struct held *h = calloc(1, sizeof *h);
    vh_row *row = malloc(sizeof *row);
    if (!h || !row) {
        free(h);
        free(row);
        sqlite3_finalize(st);
        return vh_fail(e, VH_EX_OSERR, "listing domains: out of memory");
    }
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *svc = (const char *)sqlite3_column_text(st, 0);
        const char *adr = (const char *)sqlite3_column_text(st, 1);
        svc = svc ? svc : "";
        adr = adr ? adr : "";
        /* a new service: its predecessor's default goes out first */
        if (h->have && strcmp(h->service, svc) != 0 && (stop = flush(h, json, cb, ctx)))
            break;
        const char *text = NULL;
        if (json) {
            text = (const char *)sqlite3_column_text(st, json == BOTH ? VH_ROW_NALL : 2);
            text = text ? text : "null";
        }
        if (json != JSON) {
            read_row(st, row);
        }
        if (strcmp(adr, "default") == 0) {
            /* one per service (primary key): keep it for the end */
            snprintf(h->service, sizeof h->service, "%s", svc);
            if (json && !(h->json = strdup(text))) {
                result = vh_fail(e, VH_EX_OSERR, "listing domains: out of memory");
                break;
            }
            if (json != JSON)
                h->row = *row;
            h->have = 1;
            continue;
        }
        stop = emit(json, cb, ctx, text, row);
    }
    if (result == 0 && !stop && rc != SQLITE_ROW && rc != SQLITE_DONE)
        result = vh_db_fail(db, rc, "listing domains", e);
    if (result == 0 && !stop)
        flush(h, json, cb, ctx);
    free(h->json);
    free(h);
    free(row);
    sqlite3_finalize(st);
    return result;
}

int vh_store_each(sqlite3 *db, const char *service, vh_row_cb cb, void *ctx, vh_err *e)
{
    return each(db, vh_store_each_sql, sizeof vh_store_each_sql, service, ROW, (void *)cb, ctx, e);
}

int vh_store_each_json(sqlite3 *db, const char *service, vh_text_cb cb, void *ctx, vh_err *e)
{
    return each(db, vh_store_each_json_sql, sizeof vh_store_each_json_sql, service, JSON, (void *)cb, ctx, e);
}

int vh_store_each_both(sqlite3 *db, const char *service, vh_row_text_cb cb, void *ctx, vh_err *e)
{
    return each(db, each_both_sql, sizeof each_both_sql, service, BOTH, (void *)cb, ctx, e);
}

int vh_store_get(sqlite3 *db, const char *service, const char *address, vh_row *row, vh_err *e)
{
    static const char sql[] = "SELECT " VH_ROW_ALL_COLS " FROM domains WHERE service = ?1 AND address = ?2";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the domain", e);
    sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int result = 0;
    if (rc == SQLITE_ROW)
        read_row(st, row);
    else if (rc == SQLITE_DONE)
        result = vh_fail(e, VH_EX_NOHOST, "no domain for service %s on %s - see vhostctl list", service, address);
    else
        result = vh_db_fail(db, rc, "reading the domain", e);
    sqlite3_finalize(st);
    return result;
}

int vh_store_update(sqlite3 *db, const vh_row *row, vh_err *e)
{
    /* ?N is column N - 1 of VH_ROW_ALL_COLS (row.h), as in vh_store_add;
     * the key (?1, ?2) selects the row and stays */
    static const char sql[] =
        "UPDATE domains SET root = ?3, user = ?4, grp = ?5, uid = ?6, gid = ?7, groups = ?8, enabled = ?9,"
        " net_bind_service = ?10, max_procs = ?11, unjailed = ?12, max_instances = ?13, max_per_source = ?14,"
        " source_prefix4 = ?15, source_prefix6 = ?16, base = ?17, comment = ?18, updated = "
        "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
        " WHERE service = ?1 AND address = ?2";
    sqlite3_stmt *st = NULL;
    char groups[VH_MAX_GROUPS * 12];
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "preparing the change", e);
    bind_row(st, row, groups, sizeof groups);
    rc = sqlite3_step(st);
    int result = 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        result = vh_fail(e, VH_EX_DATAERR, "the database refuses the new settings of %s %s: %s", row->service,
                         row->address, sqlite3_errmsg(db));
    else if (rc != SQLITE_DONE)
        result = vh_db_fail(db, rc, "changing the domain", e);
    else if (sqlite3_changes(db) == 0)
        result =
            vh_fail(e, VH_EX_NOHOST, "no domain for service %s on %s - see vhostctl list", row->service, row->address);
    sqlite3_finalize(st);
    return result;
}

int vh_store_json(sqlite3 *db, const char *service, const char *address, char **out, vh_err *e)
{
    static const char sql[] = "SELECT " VH_STORE_JSON_OBJECT " FROM domains WHERE service = ?1 AND address = ?2";
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the domain", e);
    sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int result = 0;
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (!(*out = strdup(t ? (const char *)t : "null")))
            result = vh_fail(e, VH_EX_OSERR, "reading the domain: out of memory");
    } else if (rc != SQLITE_DONE) {
        result = vh_db_fail(db, rc, "reading the domain", e);
    }
    sqlite3_finalize(st);
    return result;
}
