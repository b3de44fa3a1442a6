#include "accept.h"

#include "db.h"
#include "exitcodes.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Warnings an operator may judge for a domain or a jail; every other
 * kind, and every kind added later until someone reviews it here, stays
 * shown (doc/jails.md "Accepting a finding" gives the reasons). */
const char *const vh_accept_kinds[] = {
    "runs-as-root",    /* a daemon that must start as root: it keeps its namespaces and sandbox */
    "unjailed",        /* the row's --unjailed, chosen on purpose (sql/003 section 1); a stale mark is an error */
    "socket",          /* the jail's own log socket */
    "runas-writable",  /* the tenant's own files; an error (root trusts them) is never covered */
    "shared-uid",      /* two jails of one tenant */
    "shared-host-uid", /* a host daemon of the same tenant */
    "groups-changed",  /* the stored groups are the ones the service keeps */
    NULL,
};

int vh_accept_kind_ok(const char *kind)
{
    for (const char *const *k = vh_accept_kinds; *k; k++)
        if (strcmp(*k, kind) == 0)
            return 1;
    return 0;
}

void vh_accept_domain_subject(const char *service, const char *address, char *out, size_t n)
{
    snprintf(out, n, "%s %s", service, address);
}

static const char *scope_name(int jail)
{
    return jail ? "jail" : "domain";
}

int vh_accept_check_kind(const char *kind, vh_err *e)
{
    if (vh_accept_kind_ok(kind))
        return 0;
    char list[512] = "";
    size_t used = 0;
    for (const char *const *k = vh_accept_kinds; *k && used < sizeof list; k++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *k);
    char shown[4 * VH_ACCEPT_KIND_MAX];
    return vh_fail(e, VH_EX_DATAERR,
                   "findings of kind '%s' cannot be accepted - fix them (doc/jails.md \"Accepting a finding\"); "
                   "acceptable: %s",
                   vh_printable(kind, shown, sizeof shown), list);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, vh_err *e)
{
    int rc = sqlite3_step(st);
    int frc = sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, what, e);
    if (frc != SQLITE_OK)
        return vh_db_fail(db, frc, what, e);
    return 0;
}

static void bind_key(sqlite3_stmt *st, const char *kind, int jail, const char *subject, const char *path)
{
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, scope_name(jail), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC);
}

int vh_accept_put(sqlite3 *db, const vh_accepted *a, int *replaced, vh_err *e)
{
    if (vh_accept_check_kind(a->kind, e) < 0)
        return -1;
    static const char exists_sql[] = "SELECT 1 FROM accepted WHERE kind = ?1 AND scope = ?2 AND subject = ?3 AND "
                                     "path = ?4";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, exists_sql, (int)sizeof exists_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading accepted findings", e);
    bind_key(st, a->kind, a->jail, a->subject, a->path);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "reading accepted findings", e);
    *replaced = rc == SQLITE_ROW;

    /* INSERT OR REPLACE: one row per key, the time of the last decision */
    static const char put_sql[] = "INSERT OR REPLACE INTO accepted (kind, scope, subject, path, reason, uid, login) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    rc = sqlite3_prepare_v2(db, put_sql, (int)sizeof put_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "accepting the finding", e);
    bind_key(st, a->kind, a->jail, a->subject, a->path);
    sqlite3_bind_text(st, 5, a->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)a->uid);
    sqlite3_bind_text(st, 7, a->login, -1, SQLITE_STATIC);
    return step_done(db, st, "accepting the finding", e);
}

int vh_accept_remove(sqlite3 *db, const char *kind, int jail, const char *subject, const char *path, vh_err *e)
{
    static const char sql[] = "DELETE FROM accepted WHERE kind = ?1 AND scope = ?2 AND subject = ?3 AND path = ?4";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, (int)sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "removing the accepted finding", e);
    bind_key(st, kind, jail, subject, path);
    if (step_done(db, st, "removing the accepted finding", e) < 0)
        return -1;
    if (sqlite3_changes(db) == 0) {
        char k[4 * VH_ACCEPT_KIND_MAX], s[4 * PATH_MAX], p[4 * PATH_MAX];
        return vh_fail(e, VH_EX_NOHOST, "no accepted finding %s for %s %s%s%s - see vhostctl check --all",
                       vh_printable(kind, k, sizeof k), scope_name(jail), vh_printable(subject, s, sizeof s),
                       *path ? " at " : "", vh_printable(path, p, sizeof p));
    }
    return 0;
}

int vh_accept_subject_exists(sqlite3 *db, int jail, const char *subject, char *root, size_t n, vh_err *e)
{
    static const char by_key[] = "SELECT root FROM domains WHERE service = ?1 AND address = ?2";
    static const char by_root[] = "SELECT 1 FROM domains WHERE root = ?1 LIMIT 1";
    char svc[VH_SERVICE_MAX + 1] = "";
    const char *addr = NULL;
    if (!jail) {
        const char *sp = strchr(subject, ' ');
        if (!sp || (size_t)(sp - subject) >= sizeof svc)
            return 0;
        memcpy(svc, subject, (size_t)(sp - subject));
        svc[sp - subject] = '\0';
        addr = sp + 1;
    }
    sqlite3_stmt *st = NULL;
    int rc = jail ? sqlite3_prepare_v2(db, by_root, (int)sizeof by_root, &st, NULL)
                  : sqlite3_prepare_v2(db, by_key, (int)sizeof by_key, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "looking up the domain", e);
    sqlite3_bind_text(st, 1, jail ? subject : svc, -1, SQLITE_STATIC);
    if (!jail)
        sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && root)
        snprintf(root, n, "%s", jail ? subject : (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "looking up the domain", e);
    return rc == SQLITE_ROW;
}

int vh_accept_path_in(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (strcmp(root, "/") == 0)
        return path[0] == '/';
    return strncmp(root, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void col(sqlite3_stmt *st, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

int vh_accept_load(sqlite3 *db, vh_accept_list *l, vh_err *e)
{
    static const char sql[] = "SELECT kind, scope, subject, path, reason, uid, login, time FROM accepted"
                              " ORDER BY scope, subject, kind, path";
    l->a = NULL;
    l->n = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, (int)sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading accepted findings", e);
    size_t cap = 0;
    int result = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            vh_accepted *na = realloc(l->a, nc * sizeof *na);
            if (!na) {
                result = vh_fail(e, VH_EX_OSERR, "reading accepted findings: out of memory");
                break;
            }
            l->a = na;
            cap = nc;
        }
        vh_accepted *a = &l->a[l->n++];
        memset(a, 0, sizeof *a);
        col(st, 0, a->kind, sizeof a->kind);
        const unsigned char *scope = sqlite3_column_text(st, 1);
        a->jail = scope && strcmp((const char *)scope, "jail") == 0;
        col(st, 2, a->subject, sizeof a->subject);
        col(st, 3, a->path, sizeof a->path);
        col(st, 4, a->reason, sizeof a->reason);
        a->uid = (uint32_t)sqlite3_column_int64(st, 5);
        col(st, 6, a->login, sizeof a->login);
        col(st, 7, a->time, sizeof a->time);
    }
    if (result == 0 && rc != SQLITE_DONE)
        result = vh_db_fail(db, rc, "reading accepted findings", e);
    sqlite3_finalize(st);
    if (result < 0)
        vh_accept_free(l);
    return result;
}

void vh_accept_free(vh_accept_list *l)
{
    free(l->a);
    l->a = NULL;
    l->n = 0;
}

static int same_key(const vh_accepted *a, const vh_row *row)
{
    size_t n = strlen(row->service);
    return strncmp(a->subject, row->service, n) == 0 && a->subject[n] == ' ' &&
           strcmp(a->subject + n + 1, row->address) == 0;
}

/* The row was added after the acceptance (both times are UTC ISO 8601
 * text to the second, so they compare as strings): a domain removed and
 * added again is another domain, not the one judged. */
static int newer(const vh_accepted *a, const vh_row *row)
{
    return strcmp(row->created, a->time) > 0;
}

/* a names row: its key (scope domain) or its root (scope jail, every
 * domain served from it, now and later) */
static int names_row(const vh_accepted *a, const vh_row *row)
{
    if (a->jail)
        return strcmp(a->subject, row->root) == 0;
    return same_key(a, row) && !newer(a, row);
}

void vh_accept_see_row(vh_accept_list *l, const vh_row *row)
{
    for (size_t i = 0; i < l->n; i++) {
        vh_accepted *a = &l->a[i];
        if (names_row(a, row))
            a->live = 1;
        else if (!a->jail && same_key(a, row))
            a->readded = 1;
    }
}

vh_accepted *vh_accept_match(vh_accept_list *l, const vh_row *row, const vh_finding *f)
{
    /* never an error, never a kind that is not (or no longer) acceptable */
    if (f->severity != VH_SEV_WARNING || !vh_accept_kind_ok(f->kind))
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        vh_accepted *a = &l->a[i];
        if (strcmp(a->kind, f->kind) == 0 && names_row(a, row) && (!a->path[0] || strcmp(a->path, f->path) == 0)) {
            a->used++;
            return a;
        }
    }
    return NULL;
}

int vh_accept_withdraw_domain(sqlite3 *db, const char *service, const char *address, vh_err *e)
{
    static const char sql[] = "DELETE FROM accepted WHERE scope = 'domain' AND subject = ?1";
    char subject[PATH_MAX];
    vh_accept_domain_subject(service, address, subject, sizeof subject);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "withdrawing the domain's acceptances", e);
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int n = rc == SQLITE_DONE ? sqlite3_changes(db) : vh_db_fail(db, rc, "withdrawing the domain's acceptances", e);
    sqlite3_finalize(st);
    return n;
}
