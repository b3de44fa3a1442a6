#include "vhostctl.h"

#include "db.h"
#include "dbadmin.h"
#include "dbcheck.h"
#include "exitcodes.h"
#include "fleet.h"
#include "migrate.h"

#include <string.h>

#include <stdio.h>

/* The migration's history row, in its transaction (audit.h). */
static int audit_migration(sqlite3 *db, int from, int to, void *ctx, vh_err *e)
{
    vh_audit *a = ctx;
    char before[64], after[64];
    snprintf(before, sizeof before, "{\"schema_version\":%d}", from);
    snprintf(after, sizeof after, "{\"schema_version\":%d}", to);
    if (vh_audit_summary(a, from ? before : NULL, after, e) < 0 || vh_audit_write(a, db, e) < 0)
        return -1;
    return 0;
}

/* A step of init failed: roll back and close what is open (h, or NULL),
 * print e; the exit status. */
static int init_failed(sqlite3 *h, vh_err *e)
{
    if (h)
        vc_abort_close(h, e);
    else
        vc_error(e);
    return e->code ? e->code : VH_EX_SOFTWARE;
}

/* The role change's history row: the fleet row's role and id before and
 * after, in the caller's transaction. */
static int role_summary(vh_audit *a, const vh_fleet *before, const char *role, const char *fleet_id, vh_err *e)
{
    char b[160], aft[160];
    snprintf(b, sizeof b, "{\"role\":\"%s\",\"fleet_id\":\"%s\"}", before->role, before->fleet_id);
    snprintf(aft, sizeof aft, "{\"role\":\"%s\",\"fleet_id\":\"%s\"}", role,
             fleet_id && strcmp(role, "standalone") ? fleet_id : "");
    return vh_audit_summary(a, b, aft, e);
}

int vc_cmd_init(const char *db, int argc, char **argv)
{
    struct arg_str *role = arg_str0(NULL, "role", "ROLE",
                                    "this host's part in a fleet (issue 18): master (the one host where the fleet "
                                    "is changed), replica (changed only by vhostctl sync), or standalone (no fleet)");
    struct arg_str *fleet = arg_str0(NULL, "fleet-id", "ID", "the fleet's name, the same on every host of it");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {role, fleet, help, dbo, end};
    const int nt = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("init"), table, nt, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    if (fleet->count && !role->count) {
        vh_fail(&e, VH_EX_USAGE, "--fleet-id goes with --role master or --role replica");
        rc = vc_error(&e);
        goto out;
    }
    sqlite3 *h = NULL;
    int from = 0, to = 0;
    vh_audit a;
    if (vh_audit_start(&a, argc, argv, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    if (vh_dbadmin_open(db, 1, &h, &e) < 0 || vh_migrate_hooked(h, &from, &to, audit_migration, &a, &e) < 0 ||
        vh_db_close(h, &e) < 0) {
        if (h)
            vh_db_close(h, NULL);
        vh_audit_free(&a);
        rc = vc_error(&e);
        goto out;
    }
    if (from != to)
        vh_audit_log(&a);
    /* sql/004's prefix_lengths, should a change without the triggers
     * have left it wrong (vhostctl check reports it): recounted */
    long drift = 0;
    h = NULL;
    if (vh_dbadmin_open(db, 0, &h, &e) < 0 || vh_dbadmin_begin(h, &e) < 0 ||
        (drift = vh_dbcheck_prefix_drift(h, NULL, NULL, &e)) < 0 ||
        (drift > 0 &&
         (vh_dbcheck_prefix_recount(h, &e) < 0 ||
          vh_audit_summary(&a, NULL, "{\"prefix_lengths\":\"recounted\"}", &e) < 0 || vh_audit_write(&a, h, &e) < 0)) ||
        vh_dbadmin_commit(h, &e) < 0) {
        rc = init_failed(h, &e);
        vh_audit_free(&a);
        goto out;
    }
    vh_db_close(h, NULL);
    if (drift > 0) {
        vh_audit_log(&a);
        printf("%s: prefix_lengths recounted from the rows (%ld entr%s differed)\n", db, drift,
               drift == 1 ? "y" : "ies");
    }
    /* the role, in a transaction of its own with its history row */
    vh_fleet before;
    if (role->count) {
        h = NULL;
        const char *fid = fleet->count ? fleet->sval[0] : NULL;
        if (vh_dbadmin_open(db, 0, &h, &e) < 0 || vh_dbadmin_begin(h, &e) < 0 ||
            vh_fleet_read(h, "main", &before, &e) < 0 || vh_fleet_set_role(h, role->sval[0], fid, &e) < 0 ||
            role_summary(&a, &before, role->sval[0], fid, &e) < 0) {
            rc = init_failed(h, &e);
            vh_audit_free(&a);
            goto out;
        }
        static const vh_ixwrite_key none[1];
        if ((rc = vc_commit_audit(h, &a, none, 0)) != 0) {
            vh_audit_free(&a);
            goto out;
        }
        printf("%s: %s%s%s (generation %lld)\n", db, role->sval[0],
               strcmp(role->sval[0], "standalone") ? " of fleet " : "",
               strcmp(role->sval[0], "standalone") ? fleet->sval[0] : "", (long long)before.generation);
    }
    vh_audit_free(&a);
    /* the lookup index anew from the rows (also after the database was
     * changed by other means than vhostctl) */
    vc_index(db);
    if (from == to)
        printf("%s: schema version %d, up to date\n", db, to);
    else if (from == 0)
        printf("%s: created, schema version %d\n", db, to);
    else
        printf("%s: upgraded from schema version %d to %d\n", db, from, to);
    /* Tell the operator now what virtuald would refuse later (E1-E3). */
    if (vh_db_trust(db, &e) < 0)
        fprintf(stderr, "vhostctl: warning: virtuald will refuse this database: %s\n", e.msg);
out:
    arg_freetable(table, (size_t)nt);
    return rc < 0 ? 0 : rc;
}
