/* vhostctl snapshot, sync, status, agent: a fleet of hosts sharing one
 * configuration (issue 18; fleet.h; doc/design.md "A fleet"). */
#include "vhostctl.h"

#include "audit.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "fleet.h"
#include "ix.h"
#include "nest.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VH_OUTBOX_DEFAULT "/var/lib/virtuald/outbox"

int vc_cmd_snapshot(const char *db, int argc, char **argv)
{
    struct arg_file *out = arg_file0(NULL, "out", "DIR", "where to publish (default " VH_OUTBOX_DEFAULT ")");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {out, help, dbo, end};
    const int nt = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("snapshot"), table, nt, argc, argv, &db);
    if (rc)
        goto done;
    vh_err e = {0, ""};
    char made[PATH_MAX];
    int64_t gen = 0;
    if (vc_need_root(&e) < 0 ||
        vh_fleet_snapshot(db, out->count ? out->filename[0] : VH_OUTBOX_DEFAULT, made, sizeof made, &gen, &e) < 0) {
        rc = vc_error(&e);
        goto done;
    }
    printf("published generation %lld: %s\n", (long long)gen, made);
done:
    arg_freetable(table, (size_t)nt);
    return rc < 0 ? 0 : rc;
}

/* What only this host can judge of the rows a sync wrote (in its
 * transaction): the master judged them against its own database path. A
 * jail of the fleet that holds this host's database (its journal, its
 * lookup index) lets that jail's root service rewrite them (THREATS K8);
 * a row marked unjailed because its root held the master's database is a
 * jail here, and virtuald would skip its set-uid exposure check (K7).
 * Each written to stderr; -1 with e when any. */
struct here_ctx {
    long n;
};

static void db_in_jail(void *ctx, const char *outer, const char *inner, const char *dbfile)
{
    struct here_ctx *c = ctx;
    if (inner)
        return; /* jails in jails: the master's operator judged those (add --force) */
    fprintf(stderr, "  the jail %s holds this host's database %s\n", outer, dbfile);
    c->n++;
}

static int judge_here(sqlite3 *h, const char *db, const char *path, vh_err *e)
{
    struct here_ctx c = {0};
    char abs[PATH_MAX + NAME_MAX + 2];
    if (vc_db_abspath(db, abs, sizeof abs) < 0)
        return vh_fail(e, VH_EX_OSFILE, "%s: cannot resolve its directory: %s", db, strerror(errno));
    if (vh_nest_scan(h, abs, db_in_jail, &c, e) < 0)
        return -1;
    static const char sel[] = "SELECT service, address, root FROM main.domains WHERE unjailed = 1";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sel, sizeof sel, &st, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(st)) != SQLITE_ROW)
            break;
        const char *root = (const char *)sqlite3_column_text(st, 2);
        char why[PATH_MAX + 128];
        int stale = vc_unjailed_stale(h, db, root ? root : "", why, sizeof why, e);
        if (stale < 0) {
            sqlite3_finalize(st);
            return -1;
        }
        if (stale) {
            fprintf(stderr, "  %s %s is marked unjailed, but here %s\n", sqlite3_column_text(st, 0),
                    sqlite3_column_text(st, 1), why);
            c.n++;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(h, rc, "reading the rows marked unjailed", e);
    if (c.n)
        return vh_fail(e, VH_EX_DATAERR,
                       "%ld row%s of %s would put this host's database inside a jail or mark a jail unjailed here "
                       "(listed above; THREATS K8, K7) - move the database out of the fleet's jails, or change the "
                       "rows on the master",
                       c.n, c.n == 1 ? "" : "s", path);
    return 0;
}

int vc_cmd_sync(const char *db, int argc, char **argv)
{
    struct arg_file *file = arg_file1(NULL, NULL, "FILE", "a snapshot published by the fleet's master");
    struct arg_lit *force =
        arg_lit0(NULL, "force", "apply it even when it is not newer than what this host has (a deliberate rollback)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {file, force, help, dbo, end};
    const int nt = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("sync"), table, nt, argc, argv, &db);
    if (rc)
        goto done;
    vh_err e = {0, ""};
    vh_audit a;
    if (vc_need_root(&e) < 0 || vh_audit_start(&a, argc, argv, &e) < 0) {
        rc = vc_error(&e);
        goto done;
    }
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto audit;
    vh_sync_result r;
    const char *path = file->filename[0];
    int sr = vh_fleet_sync(h, path, force->count > 0, stderr, &r, &e);
    if (sr == 0 && judge_here(h, db, path, &e) < 0) {
        vh_sync_result_free(&r);
        vh_db_rollback(h);
        sqlite3_exec(h, "DETACH DATABASE snap", NULL, NULL, NULL);
        r.stale = 0;
        sr = -1;
    }
    if (sr == 1 && !r.cleared) {
        vh_db_close(h, NULL);
        /* a sync killed between its commit and the index leaves the index
         * stale (virtuald reads SQLite meanwhile): brought back here */
        const char *ixwhy = NULL;
        vh_err ie;
        if (vh_ix_current(db, &ixwhy, &ie) != VH_IX_CURRENT)
            vc_index(db);
        printf("%s: generation %lld, which this host has already: nothing to do\n", path, (long long)r.to);
        rc = 0;
        goto audit;
    }
    if (sr == 1) {
        /* after a failed sync: the error cleared, recorded in the history */
        char after[PATH_MAX + 128] = "{}";
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, "SELECT json_object('generation', ?1, 'file', ?2, 'sync_error', 'cleared')", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_bind_int64(st, 1, r.to) == SQLITE_OK &&
            sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            snprintf(after, sizeof after, "%s", sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        static const vh_ixwrite_key none[1];
        if (vh_audit_summary(&a, NULL, after, &e) < 0) {
            rc = vc_abort_close(h, &e);
            goto audit;
        }
        rc = vc_commit_audit(h, &a, none, 0);
        if (rc == 0)
            printf("%s: generation %lld, which this host has already: the last sync's error is cleared\n", path,
                   (long long)r.to);
        goto audit;
    }
    if (sr < 0) {
        /* nothing changed; the failure is recorded: history, and unless
         * the snapshot was merely older than this host's state, the fleet
         * row (status, agent: drain) */
        vh_err re;
        char after[2048] = "{}";
        /* the message as a JSON string, built by SQLite */
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, "SELECT json_object('sync_failed', ?1, 'file', ?2)", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_bind_text(st, 1, e.msg, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            snprintf(after, sizeof after, "%s", sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        static const vh_ixwrite_key none[1];
        if (vh_dbadmin_begin(h, &re) < 0 || (!r.stale && vh_fleet_record_error(h, path, e.msg, &re) < 0) ||
            vh_audit_summary(&a, NULL, after, &re) < 0 || vc_commit_audit(h, &a, none, 0) != 0) {
            vh_db_rollback(h);
            vh_db_close(h, NULL);
            fprintf(stderr, "vhostctl: warning: the failed sync could not be recorded: %s\n", re.msg);
        }
        rc = vc_error(&e);
        goto audit;
    }
    char before[64], after[PATH_MAX + 512] = "{}";
    snprintf(before, sizeof before, "{\"generation\":%lld}", (long long)r.from);
    sqlite3_stmt *st = NULL;
    int jr = sqlite3_prepare_v2(h,
                                "SELECT json_object('generation', ?1, 'file', ?2, 'added', ?3, 'changed', ?4, "
                                "'removed', ?5, 'unchanged', ?6, 'sources_added', ?7, 'sources_removed', ?8)",
                                -1, &st, NULL);
    if (jr == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, r.to);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)r.added);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)r.changed);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r.removed);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)r.same);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)r.sources_added);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)r.sources_removed);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(after, sizeof after, "%s", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (vh_audit_summary(&a, before, after, &e) < 0) {
        vh_sync_result_free(&r);
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    rc = vc_commit_audit(h, &a, r.keys, r.nkeys);
    if (rc == 0)
        printf("synced %s: generation %lld -> %lld: %lu added, %lu changed, %lu removed, %lu unchanged; trusted "
               "sources %lu added, %lu removed\n",
               path, (long long)r.from, (long long)r.to, r.added, r.changed, r.removed, r.same, r.sources_added,
               r.sources_removed);
    vh_sync_result_free(&r);
audit:
    vh_audit_free(&a);
done:
    arg_freetable(table, (size_t)nt);
    return rc < 0 ? 0 : rc;
}

/* What status and agent tell: the fleet row, the index, the trust. */
struct state {
    int open_ok;    /* the database opened with virtuald's checks */
    char why[1024]; /* else why not */
    vh_fleet f;     /* when open_ok */
    int ix;         /* vh_ix_state */
    char ixwhy[256];
};

static void read_state(const char *db, struct state *s)
{
    memset(s, 0, sizeof *s);
    vh_err e;
    sqlite3 *h = NULL;
    /* virtuald's own open: trusted, read-only, our schema - what the
     * connections of this host depend on */
    if (vh_db_open_runtime(db, &h, &e) < 0 || vh_fleet_read(h, "main", &s->f, &e) < 0) {
        snprintf(s->why, sizeof s->why, "%s", e.msg);
        if (h)
            vh_db_close(h, NULL);
        return;
    }
    vh_db_close(h, NULL);
    s->open_ok = 1;
    const char *why = NULL;
    s->ix = (int)vh_ix_current(db, &why, &e);
    snprintf(s->ixwhy, sizeof s->ixwhy, "%s", s->ix == VH_IX_UNTRUSTED ? e.msg : why ? why : "");
}

int vc_cmd_status(const char *db, int argc, char **argv)
{
    struct arg_lit *json = arg_lit0(NULL, "json", "print a JSON object");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {json, help, dbo, end};
    const int nt = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("status"), table, nt, argc, argv, &db);
    if (rc)
        goto done;
    struct state s;
    read_state(db, &s);
    const char *ix = s.ix == VH_IX_CURRENT ? "current" : s.ix == VH_IX_NOT_CURRENT ? "stale" : "untrusted";
    if (json->count) {
        printf("{\"database\": ");
        vc_json_string(stdout, db);
        printf(", \"usable\": %s", s.open_ok ? "true" : "false");
        if (!s.open_ok) {
            printf(", \"error\": ");
            vc_json_string(stdout, s.why);
        } else {
            printf(", \"role\": ");
            vc_json_string(stdout, s.f.role);
            printf(", \"fleet_id\": ");
            vc_json_string(stdout, s.f.fleet_id);
            printf(", \"master_id\": ");
            vc_json_string(stdout, s.f.master_id);
            printf(", \"generation\": %lld, \"changed\": ", (long long)s.f.generation);
            vc_json_string(stdout, s.f.changed);
            printf(", \"synced_at\": ");
            vc_json_string(stdout, s.f.synced_at);
            printf(", \"sync_file\": ");
            vc_json_string(stdout, s.f.sync_file);
            printf(", \"sync_error\": ");
            vc_json_string(stdout, s.f.sync_error);
            printf(", \"index\": \"%s\", \"index_why\": ", ix);
            vc_json_string(stdout, s.ixwhy);
        }
        printf("}\n");
    } else if (!s.open_ok) {
        printf("database %s: unusable: %s\n", db, s.why);
    } else {
        printf("database %s\n  role %s%s%s%s%s\n  generation %lld%s%s%s\n", db, s.f.role,
               s.f.fleet_id[0] ? " of fleet " : "", s.f.fleet_id,
               s.f.master_id[0] ? (!strcmp(s.f.role, "master") ? ", master id " : ", following master ") : "",
               s.f.master_id, (long long)s.f.generation, s.f.changed[0] ? " (made " : "", s.f.changed,
               s.f.changed[0] ? ")" : "");
        if (!strcmp(s.f.role, "replica"))
            printf("  last sync %s%s%s: %s\n", s.f.synced_at[0] ? s.f.synced_at : "never",
                   s.f.sync_file[0] ? " of " : "", s.f.sync_file,
                   s.f.sync_error[0]  ? s.f.sync_error
                   : s.f.synced_at[0] ? "ok"
                                      : "-");
        printf("  lookup index %s%s%s\n", ix, s.ixwhy[0] ? ": " : "", s.ixwhy);
    }
    rc = !s.open_ok ? VH_EX_CONFIG : (!strcmp(s.f.role, "replica") && s.f.sync_error[0]) ? 1 : 0;
done:
    arg_freetable(table, (size_t)nt);
    return rc < 0 ? 0 : rc;
}

/* A reason as HAProxy shows it after '#': printable ASCII, no line end.
 * HAProxy (2.6 tcpcheck_agent_expect_reply) ends a word only at a space,
 * tab or comma, and takes '#' as the description only at a word's start:
 * "drain#why" is one unknown word, ignored ("agent reports an error").
 * So the state words and '#' are apart, and a drain also says "up" (the
 * host serves): HAProxy shows a description only with a health word,
 * as "via agent : up (why)". */
static void agent_reason(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 1 < n && k < 120; in++)
        out[k++] = (*in >= 0x20 && *in < 0x7f) ? *in : ' ';
    out[k] = '\0';
}

int vc_cmd_agent(const char *db, int argc, char **argv)
{
    struct arg_file *ming = arg_file0(NULL, "min-generation", "FILE",
                                      "drain while this host's generation is below the number in FILE (the "
                                      "orchestrator writes it when it announces a change)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {ming, help, dbo, end};
    const int nt = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("agent"), table, nt, argc, argv, &db);
    if (rc)
        goto done;
    struct state s;
    read_state(db, &s);
    char reason[160];
    if (!s.open_ok) {
        agent_reason(s.why, reason, sizeof reason);
        printf("down #virtuald database unusable: %s\n", reason);
        goto flush;
    }
    if (!strcmp(s.f.role, "replica") && s.f.sync_error[0]) {
        agent_reason(s.f.sync_error, reason, sizeof reason);
        printf("up drain #last sync failed: %s\n", reason);
        goto flush;
    }
    if (ming->count) {
        FILE *f = fopen(ming->filename[0], "re");
        long long want = -1;
        char extra;
        if (f) {
            if (fscanf(f, " %lld %c", &want, &extra) != 1)
                want = -2;
            fclose(f);
        }
        if (f && (want < 0)) {
            /* a file that says nothing usable must not send traffic away
             * nor bring it back: say so, as drain */
            printf("up drain #%s holds no generation number\n", ming->filename[0]);
            goto flush;
        }
        if (f && s.f.generation < want) {
            printf("up drain #generation %lld below %lld\n", (long long)s.f.generation, want);
            goto flush;
        }
    }
    printf("ready up\n");
flush:
    rc = fflush(stdout) == 0 ? 0 : VH_EX_IOERR;
done:
    arg_freetable(table, (size_t)nt);
    return rc < 0 ? 0 : rc;
}
