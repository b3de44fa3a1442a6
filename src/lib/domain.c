#include "domain.h"

#include "db.h"
#include "exitcodes.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vh_rule_name(int rule)
{
    switch (rule) {
    case VH_RULE_EXACT: return "exact";
    case VH_RULE_ANY_SERVICE: return "any-service";
    case VH_RULE_DEFAULT: return "default";
    case VH_RULE_ANY_DEFAULT: return "any-service-default";
    default: return "none";
    }
}

int vh_groups_parse(const char *text, uint32_t *gids, vh_err *e)
{
    int n = 0;
    const char *p = text;
    if (!*p)
        return 0;
    for (;;) {
        if (n >= VH_MAX_GROUPS)
            return vh_fail(e, VH_EX_CONFIG, "more than %d supplementary groups", VH_MAX_GROUPS);
        if (*p < '0' || *p > '9')
            return vh_fail(e, VH_EX_CONFIG, "bad supplementary group list '%.64s'", text);
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v == 0 || v >= 4294967295ULL || v == 65535)
            return vh_fail(e, VH_EX_CONFIG, "supplementary group %.20s is not allowed (0, 65535 and 4294967295 never are)", p);
        gids[n++] = (uint32_t)v;
        if (*end == '\0')
            return n;
        if (*end != ',')
            return vh_fail(e, VH_EX_CONFIG, "bad supplementary group list '%.64s'", text);
        p = end + 1;
    }
}

void vh_groups_format(const uint32_t *gids, int n, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, i ? ",%u" : "%u", (unsigned)gids[i]);
}

static int id_ok(uint32_t id)
{
    return id != 0 && id != 65535 && id != 4294967295u;
}

int vh_row_valid(const vh_row *row, vh_err *e)
{
    vh_err sub;
    if (vh_root_valid(row->root, &sub) < 0)
        return vh_fail(e, VH_EX_CONFIG, "row %s %s: %s", row->service, row->address, sub.msg);
    if (row->has_user) {
        if (!id_ok(row->uid))
            return vh_fail(e, VH_EX_NOUSER, "row %s %s: run-as uid %u is not allowed - omit --user for a root service",
                           row->service, row->address, (unsigned)row->uid);
        if (!id_ok(row->gid))
            return vh_fail(e, VH_EX_NOUSER, "row %s %s: run-as gid %u is not allowed", row->service, row->address,
                           (unsigned)row->gid);
        for (int i = 0; i < row->ngroups; i++)
            if (!id_ok(row->groups[i]))
                return vh_fail(e, VH_EX_NOUSER, "row %s %s: supplementary gid %u is not allowed", row->service,
                               row->address, (unsigned)row->groups[i]);
    }
    return 0;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

/* The selection query: both keys bound, four candidate (service, address)
 * pairs found by primary-key seeks; the rule number orders them. */
static const char select_sql[] =
    "SELECT service, address, root, user, grp, uid, gid, groups, enabled,"
    " (CASE WHEN address = ?2 THEN 0 ELSE 2 END) + (CASE WHEN service = ?1 THEN 1 ELSE 2 END) AS rule"
    " FROM domains WHERE service IN (?1, '*') AND address IN (?2, 'default')"
    " ORDER BY rule LIMIT 1";

int vh_select(sqlite3 *db, const char *service, const char *address, vh_row *row, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int result = -1;
    int rc = sqlite3_prepare_v2(db, select_sql, sizeof select_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "preparing the lookup", e);
    if ((rc = sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC)) != SQLITE_OK ||
        (rc = sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC)) != SQLITE_OK) {
        vh_db_fail(db, rc, "binding the lookup", e);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        result = VH_RULE_NONE;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        vh_db_fail(db, rc, "looking up the domain", e);
        goto out;
    }
    memset(row, 0, sizeof *row);
    copy_col(st, 0, row->service, sizeof row->service);
    copy_col(st, 1, row->address, sizeof row->address);
    copy_col(st, 2, row->root, sizeof row->root);
    row->has_user = sqlite3_column_type(st, 3) != SQLITE_NULL;
    copy_col(st, 3, row->user, sizeof row->user);
    copy_col(st, 4, row->group, sizeof row->group);
    if (row->has_user) {
        sqlite3_int64 uid = sqlite3_column_int64(st, 5), gid = sqlite3_column_int64(st, 6);
        if (sqlite3_column_type(st, 5) != SQLITE_INTEGER || sqlite3_column_type(st, 6) != SQLITE_INTEGER ||
            uid <= 0 || uid >= 4294967295LL || gid <= 0 || gid >= 4294967295LL) {
            vh_fail(e, VH_EX_CONFIG, "row %s %s: run-as uid/gid are not valid numbers - re-add the domain",
                    row->service, row->address);
            goto out;
        }
        row->uid = (uint32_t)uid;
        row->gid = (uint32_t)gid;
        const unsigned char *g = sqlite3_column_text(st, 7);
        int n = vh_groups_parse(g ? (const char *)g : "", row->groups, e);
        if (n < 0)
            goto out;
        row->ngroups = n;
    }
    row->enabled = sqlite3_column_int(st, 8);
    result = sqlite3_column_int(st, 9);
    if (result < VH_RULE_EXACT || result > VH_RULE_ANY_DEFAULT) {
        result = vh_fail(e, VH_EX_SOFTWARE, "lookup returned rule %d", result);
        goto out;
    }
    /* a second row would mean the primary key is not what we think */
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        result = vh_db_fail(db, rc == SQLITE_ROW ? SQLITE_CORRUPT : rc, "finishing the lookup", e);
        goto out;
    }
out:
    rc = sqlite3_finalize(st);
    if (rc != SQLITE_OK && result >= 0)
        result = vh_db_fail(db, rc, "finishing the lookup", e);
    return result;
}

int vh_decide(const char *dbpath, const char *service, const char *address, vh_decision *d, vh_err *e)
{
    sqlite3 *db = NULL;
    memset(d, 0, sizeof *d);
    if (vh_db_open_runtime(dbpath, &db, e) < 0)
        return -1;
    int rule = vh_select(db, service, address, &d->row, e);
    vh_err ce;
    /* Closed before anything else happens: the jail never sees it. */
    if (vh_db_close(db, &ce) < 0 && rule >= 0) {
        *e = ce;
        return -1;
    }
    if (rule < 0)
        return -1;
    d->rule = rule;
    if (rule == VH_RULE_NONE)
        return vh_fail(e, VH_EX_NOHOST, "no domain for service %s on %s (no exact, '*', or default row) - add one with vhostctl add",
                       service, address);
    if (!d->row.enabled)
        return vh_fail(e, VH_EX_UNAVAILABLE, "domain %s %s is disabled (decided by rule %s) - vhostctl enable %s %s",
                       d->row.service, d->row.address, vh_rule_name(rule), d->row.service, d->row.address);
    return vh_row_valid(&d->row, e);
}
