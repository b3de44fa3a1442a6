#include "dbcheck.h"

#include "db.h"
#include "migrate.h"
#include "vherr.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct out {
    vh_finding_cb cb;
    void *ctx;
    const char *path;
    int worst;
};

static void emit(struct out *o, enum vh_severity sev, const char *kind, const char *problem, const char *fix)
{
    char p[4096], f[4096], path[4096];
    vh_printable(problem, p, sizeof p);
    vh_printable(fix, f, sizeof f);
    vh_printable(o->path, path, sizeof path);
    vh_finding fd = {"database", sev, kind, path, p, f};
    if ((int)sev > o->worst)
        o->worst = (int)sev;
    o->cb(o->ctx, &fd);
}

/* One line per object: backslash, CR and LF in its SQL escaped, so that
 * the comparison stays exact. %w: the schema ("main", or an attached
 * one). */
static const char schema_sql[] =
    "SELECT type, name, tbl_name, replace(replace(replace(coalesce(sql, ''), '\\', '\\\\'), char(13), '\\r'),"
    " char(10), '\\n') FROM \"%w\".sqlite_schema ORDER BY type, name, tbl_name";

/* Every schema object of schema, as "type name on tbl_name: sql" lines. */
static char *schema_text_of(sqlite3 *db, const char *schema, int *rc_out)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *s = sqlite3_str_new(NULL);
    char *q = sqlite3_mprintf(schema_sql, schema);
    int rc = q ? sqlite3_prepare_v2(db, q, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(q);
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            sqlite3_str_appendf(s, "%s %s on %s: %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                                sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    *rc_out = rc == SQLITE_DONE ? SQLITE_OK : rc;
    return sqlite3_str_finish(s);
}

static char *schema_text(sqlite3 *db, int *rc_out)
{
    return schema_text_of(db, "main", rc_out);
}

/* The schema that our migrations build, made in memory. */
static char *expected_schema(void)
{
    sqlite3 *mem = NULL;
    char *text = NULL;
    int rc = sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY, NULL);
    for (int i = 0; rc == SQLITE_OK && i < vh_migrate_count; i++)
        rc = sqlite3_exec(mem, vh_migrate_files[i].sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        text = schema_text(mem, &rc);
    sqlite3_close(mem);
    if (rc != SQLITE_OK) {
        sqlite3_free(text);
        return NULL;
    }
    return text;
}

/* Report each line of a that is not a line of b. */
static int report_lines(struct out *o, const char *a, const char *b, const char *what)
{
    int n = 0;
    for (const char *l = a; *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        int found = 0;
        for (const char *m = b; *m && !found;) {
            const char *mend = strchr(m, '\n');
            size_t mlen = mend ? (size_t)(mend - m) : strlen(m);
            found = mlen == len && memcmp(l, m, len) == 0;
            m += mlen + (mend ? 1 : 0);
        }
        if (!found) {
            char problem[2048];
            snprintf(problem, sizeof problem, "schema object %s: %.*s", what, (int)(len > 1500 ? 1500 : len), l);
            emit(o, VH_SEV_ERROR, "db-schema", problem,
                 "restore the database from a backup, or export the domains and import them into a new one");
            n++;
        }
        l += len + (end ? 1 : 0);
    }
    return n;
}

/* The prefix lengths the rows use, by the triggers' own expressions
 * (sql/004): the count a prefix_lengths entry should hold. */
#define WANT_SQL                                                                                                       \
    "WITH want (tbl, family, len, refs) AS ("                                                                          \
    " SELECT 'domains', CASE WHEN instr(address, ':') > 0 THEN 6 ELSE 4 END,"                                          \
    " CAST(substr(address, instr(address, '/') + 1) AS INTEGER), count(*)"                                             \
    " FROM domains WHERE instr(address, '/') > 0 GROUP BY 1, 2, 3"                                                     \
    " UNION ALL SELECT 'proxy_sources', CASE WHEN instr(source, ':') > 0 THEN 6 ELSE 4 END,"                           \
    " CAST(substr(source, instr(source, '/') + 1) AS INTEGER), count(*)"                                               \
    " FROM proxy_sources WHERE instr(source, '/') > 0 GROUP BY 1, 2, 3) "

static const char drift_sql[] =
    WANT_SQL "SELECT w.tbl, w.family, w.len, w.refs, coalesce(p.refs, -1) FROM want w LEFT JOIN prefix_lengths p"
             " ON p.tbl = w.tbl AND p.family = w.family AND p.len = w.len WHERE p.refs IS NOT w.refs"
             " UNION ALL SELECT p.tbl, p.family, p.len, 0, p.refs FROM prefix_lengths p WHERE NOT EXISTS"
             " (SELECT 1 FROM want w WHERE w.tbl = p.tbl AND w.family = p.family AND w.len = p.len)"
             " ORDER BY 1, 2, 3";

static const char recount_sql[] =
    "DELETE FROM prefix_lengths; INSERT INTO prefix_lengths (tbl, family, len, refs) " WANT_SQL
    "SELECT tbl, family, len, refs FROM want";

long vh_dbcheck_prefix_drift(sqlite3 *db, vh_prefix_drift_cb cb, void *ctx, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, drift_sql, sizeof drift_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "recounting the prefix lengths", e);
    long n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (cb)
            cb(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2),
               (long)sqlite3_column_int64(st, 3), (long)sqlite3_column_int64(st, 4));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(db, rc, "recounting the prefix lengths", e);
    return n;
}

int vh_dbcheck_prefix_recount(sqlite3 *db, vh_err *e)
{
    int rc = sqlite3_exec(db, recount_sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : vh_db_fail(db, rc, "recounting the prefix lengths", e);
}

static void drift_finding(void *ctx, const char *tbl, int family, int len, long rows, long stored)
{
    struct out *o = ctx;
    char problem[512];
    /* a length in use but not kept: its rows are never tried (a domain
     * row's connections go to a shorter prefix or a default, a trusted
     * source is not trusted) - an error; a count too high or a length
     * kept for no row only costs a probe - a warning */
    int unseen = stored < 0 && rows > 0;
    snprintf(problem, sizeof problem, "prefix_lengths says %ld %s row%s %s IPv%d /%d prefix%s, the rows hold %ld%s",
             stored < 0 ? 0 : stored, tbl, stored == 1 ? "" : "s", stored == 1 ? "is an" : "are", family, len,
             stored == 1 ? "" : "es", rows, unseen ? ": virtuald never tries them" : "");
    emit(o, unseen ? VH_SEV_ERROR : VH_SEV_WARNING, "prefix-lengths", problem,
         "the database was changed without vhostctl's triggers - vhostctl init recounts them");
}

int vh_dbcheck(sqlite3 *db, const char *path, vh_finding_cb cb, void *ctx)
{
    struct out o = {cb, ctx, path, 0};
    vh_err e;
    char fix[4096 + 64];
    if (vh_db_trust(path, &e) < 0) {
        const char *remedy = vh_finding_split_remedy(e.msg);
        if (!remedy)
            remedy = "make the database and every directory above it root-owned, not writable by group or others";
        char problem[sizeof e.msg + 64];
        snprintf(problem, sizeof problem, "virtuald refuses this database: %s", e.msg);
        emit(&o, VH_SEV_ERROR, "db-untrusted", problem, remedy);
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH)) {
        snprintf(fix, sizeof fix, "chmod o-r %s", path);
        char problem[128];
        snprintf(problem, sizeof problem,
                 "database is readable by others (mode %04o): any local user can hold a lock against vhostctl",
                 (unsigned)(st.st_mode & 07777));
        emit(&o, VH_SEV_WARNING, "db-readable", problem, fix);
    }

    int rc;
    char *want = expected_schema();
    char *have = schema_text(db, &rc);
    if (!want || rc != SQLITE_OK) {
        emit(&o, VH_SEV_ERROR, "db-schema", rc != SQLITE_OK ? sqlite3_errmsg(db) : "cannot build the expected schema",
             "restore the database from a backup");
    } else {
        report_lines(&o, have, want, "not made by virtuald");
        report_lines(&o, want, have, "missing or changed");
    }
    sqlite3_free(want);
    sqlite3_free(have);

    /* sql/004: the lengths virtuald probes, against the rows (a schema
     * too damaged for the query is reported above) */
    vh_err pe;
    vh_dbcheck_prefix_drift(db, drift_finding, &o, &pe);

    sqlite3_stmt *q = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        if (!t || strcmp((const char *)t, "ok") != 0) {
            char problem[1024];
            snprintf(problem, sizeof problem, "quick_check: %.900s", t ? (const char *)t : "(null)");
            emit(&o, VH_SEV_ERROR, "db-corrupt", problem, "restore the database from a backup");
        }
    } else if (rc != SQLITE_ROW) {
        char problem[1024];
        snprintf(problem, sizeof problem, "quick_check failed: %.900s", sqlite3_errmsg(db));
        emit(&o, VH_SEV_ERROR, "db-corrupt", problem, "restore the database from a backup");
    }
    sqlite3_finalize(q);
    return o.worst;
}

int vh_schema_same(sqlite3 *db, const char *schema, char *diff, size_t n, vh_err *e)
{
    int rc;
    char *want = expected_schema();
    char *have = schema_text_of(db, schema, &rc);
    if (!want || rc != SQLITE_OK) {
        sqlite3_free(want);
        sqlite3_free(have);
        return vh_db_fail(db, rc != SQLITE_OK ? rc : SQLITE_NOMEM, "reading the schema", e);
    }
    int same = strcmp(want, have) == 0;
    if (!same) {
        /* the first line that differs, for the message */
        const char *a = have, *b = want;
        while (*a && *a == *b)
            a++, b++;
        while (a > have && a[-1] != '\n')
            a--;
        const char *end = strchr(a, '\n');
        int len = end ? (int)(end - a) : (int)strlen(a);
        char raw[256];
        snprintf(raw, sizeof raw, "%.*s", len > 200 ? 200 : len, *a ? a : "an object is missing");
        vh_printable(raw, diff, n);
    }
    sqlite3_free(want);
    sqlite3_free(have);
    return same;
}
