#include "vhostctl.h"

#include "db.h"
#include "dbadmin.h"
#include "dbcheck.h"
#include "exitcodes.h"
#include "migrate.h"

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

int vc_cmd_init(const char *db, int argc, char **argv)
{
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {help, dbo, end};
    int rc = vc_parse(vc_find("init"), table, 3, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
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
        if (h)
            vc_abort_close(h, &e);
        else
            vc_error(&e);
        vh_audit_free(&a);
        rc = e.code ? e.code : VH_EX_SOFTWARE;
        goto out;
    }
    vh_db_close(h, NULL);
    if (drift > 0) {
        vh_audit_log(&a);
        printf("%s: prefix_lengths recounted from the rows (%ld entr%s differed)\n", db, drift,
               drift == 1 ? "y" : "ies");
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
    arg_freetable(table, 3);
    return rc < 0 ? 0 : rc;
}
