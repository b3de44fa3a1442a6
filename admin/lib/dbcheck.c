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
 * the comparison stays exact. */
static const char schema_sql[] =
    "SELECT type, name, tbl_name, replace(replace(replace(coalesce(sql, ''), '\\', '\\\\'), char(13), '\\r'),"
    " char(10), '\\n') FROM sqlite_schema ORDER BY type, name, tbl_name";

/* Every schema object, as "type name on tbl_name: sql" lines. */
static char *schema_text(sqlite3 *db, int *rc_out)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *s = sqlite3_str_new(NULL);
    int rc = sqlite3_prepare_v2(db, schema_sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            sqlite3_str_appendf(s, "%s %s on %s: %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                                sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    *rc_out = rc == SQLITE_DONE ? SQLITE_OK : rc;
    return sqlite3_str_finish(s);
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
