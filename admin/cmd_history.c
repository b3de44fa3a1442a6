/* history: the change history of the database (issue 13 point 8) - every
 * change vhostctl made, oldest first - and its bound (--max). */
#include "vhostctl.h"

#include "addr.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "valid.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* The newest limit rows (-1: all) of the selection, oldest first. */
static const char history_sql[] =
    "SELECT id, time, uid, login, command, service, address, before, after,"
    " json_object('id', id, 'time', time, 'uid', uid, 'login', login, 'command', command, 'service', service,"
    " 'address', address, 'before', json(before), 'after', json(after))"
    " FROM (SELECT * FROM history WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR address = ?2)"
    " ORDER BY id DESC LIMIT ?3) ORDER BY id";

/* s printable on stdout (a command line or a value may hold anything). */
static void put(const char *s)
{
    size_t n = strlen(s) * 4 + 1;
    char *p = malloc(n);
    if (p) {
        fputs(vh_printable(s, p, n), stdout);
        free(p);
    }
}

static int show(sqlite3 *h, const char *svc, const char *addr, long limit, int json, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, history_sql, sizeof history_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(h, rc, "reading the history", e);
    if (svc)
        sqlite3_bind_text(st, 1, svc, -1, SQLITE_STATIC);
    if (addr)
        sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, limit);
    long shown = 0;
    if (json)
        printf("[");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
#define T(i) (sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(st, i))
        if (json) {
            printf("%s\n  %s", shown ? "," : "", T(9) ? T(9) : "null");
            shown++;
            continue;
        }
        shown++;
        printf("#%lld %s ", (long long)sqlite3_column_int64(st, 0), T(1) ? T(1) : "");
        put(T(3) && *T(3) ? T(3) : "?");
        printf(" (uid %lld): ", (long long)sqlite3_column_int64(st, 2));
        put(T(4) ? T(4) : "");
        printf("\n  before: ");
        put(T(7) ? T(7) : "null");
        printf("\n  after:  ");
        put(T(8) ? T(8) : "null");
        printf("\n");
#undef T
    }
    if (json)
        printf("%s]\n", shown ? "\n" : "");
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(h, rc, "reading the history", e);
    return 0;
}

static int number(const char *opt, const char *text, long lo, long hi, long *out, vh_err *e)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi || text[0] == '-' || text[0] == '+' || text[0] == ' ')
        return vh_fail(e, VH_EX_USAGE, "%s takes a number from %ld to %ld", opt, lo, hi);
    *out = v;
    return 0;
}

/* --max N: the bound, changed like a row (audited) and applied at once. */
static int set_max(const char *db, long max, int argc, char **argv)
{
    vh_err e;
    vh_audit a;
    if (vh_audit_start(&a, argc, argv, &e) < 0)
        return vc_error(&e);
    sqlite3 *h = NULL;
    long old = 0;
    int rc = vc_open(db, &h);
    if (rc != 0)
        goto out;
    char before[64], after[64];
    if (vh_dbadmin_begin(h, &e) < 0 || vh_audit_get_max(h, &old, &e) < 0) {
        rc = vc_abort_close(h, &e);
        goto out;
    }
    snprintf(before, sizeof before, "{\"history_max\":%ld}", old);
    snprintf(after, sizeof after, "{\"history_max\":%ld}", max);
    if (vh_audit_set_max(h, max, &e) < 0 || vh_audit_summary(&a, old < 0 ? NULL : before, after, &e) < 0) {
        rc = vc_abort_close(h, &e);
        goto out;
    }
    /* the history is not the lookup index's: nothing to update there */
    if ((rc = vc_commit_audit(h, &a, NULL, 0)) != 0)
        goto out;
    printf("the history keeps the last %ld change%s\n", max, max == 1 ? "" : "s");
out:
    vh_audit_free(&a);
    return rc;
}

int vc_cmd_history(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str0(NULL, NULL, "SERVICE", "only this service's changes");
    struct arg_str *address = arg_str0(
        NULL, NULL, "ADDRESS", "only the changes of this address, prefix, 'default', name or wildcard (with SERVICE)");
    struct arg_str *limit = arg_str0("n", "limit", "N", "only the newest N changes (still oldest first)");
    struct arg_lit *json = arg_lit0(NULL, "json", "print a JSON array of objects");
    struct arg_str *max = arg_str0(NULL, "max", "N", "keep at most N changes from now on (0 keeps none)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {service, address, limit, json, max, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("history"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    e.code = 0;
    long lim = -1, m = 0;
    char addr[VH_KEY_TEXT];
    const char *svc = service->count ? service->sval[0] : NULL;
    if (max->count) {
        if (service->count || limit->count || json->count)
            vh_fail(&e, VH_EX_USAGE, "--max sets the bound and shows nothing - give it alone");
        else if (number("--max", max->sval[0], 0, VH_AUDIT_MAX_MAX, &m, &e) == 0)
            rc = set_max(db, m, argc, argv);
        if (!rc && e.code)
            rc = vc_error(&e);
        goto out;
    }
    if ((svc && vh_valid_service(svc, 1, &e) < 0) ||
        (address->count && vh_key_canon(address->sval[0], 1, addr, &e) < 0) ||
        (limit->count && number("--limit", limit->sval[0], 1, LONG_MAX, &lim, &e) < 0)) {
        rc = vc_error(&e);
        goto out;
    }
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto out;
    int r = vh_db_begin_read(h, &e);
    if (r == 0)
        r = show(h, svc, address->count ? addr : NULL, lim, json->count > 0, &e);
    rc = vc_read_close(h, r, &e);
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
