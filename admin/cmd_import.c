/* import: a legacy flat file into one service's domains, all or nothing. */
#include "vhostctl.h"

#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "fleet.h"
#include "import.h"
#include "valid.h"

#include <limits.h>
#include <sqlite3.h>
#include <string.h>

void vc_print_diag(void *ctx, const vh_legacy_diag *d)
{
    (void)ctx;
    char file[4 * PATH_MAX + 8];
    vh_printable(d->file, file, sizeof file);
    const char *sev = d->severity == VH_LEGACY_ERROR ? "error" : "warning";
    if (d->line)
        fprintf(stderr, "%s:%lu: %s: %s\n", file, d->line, sev, d->msg);
    else
        fprintf(stderr, "%s: %s: %s\n", file, sev, d->msg);
}

struct dry {
    const char *service;
};

static void print_row(void *ctx, const vh_legacy_rec *r, int action)
{
    struct dry *d = ctx;
    char dir[4 * PATH_MAX + 8];
    printf("%s %s %s %s (line %lu)\n", action == VH_IMPORT_ADD ? "would add" : "unchanged", d->service, r->address,
           vh_printable(r->dir, dir, sizeof dir), r->line);
}

void vc_print_identity(FILE *f, const vh_row *ident, const char *they)
{
    if (ident && ident->has_user)
        fprintf(f, "%s run as %s:%s (uid %u, gid %u)\n", they, ident->user, ident->group, (unsigned)ident->uid,
                (unsigned)ident->gid);
    else
        fprintf(f,
                "%s run as root, as under the legacy program, each in a private mount namespace - give --user "
                "to run them as an unprivileged user\n",
                they);
}

int vc_cmd_import(const char *db, int argc, char **argv)
{
    struct arg_str *service =
        arg_str1("s", "service", "SERVICE", "the service the file's domains are for ('*': every service)");
    struct arg_file *file =
        arg_file1(NULL, NULL, "FILE", "legacy configuration, ADDRESS DIRECTORY per line ('-': standard input)");
    struct arg_lit *dry = arg_lit0("n", "dry-run", "report exactly what would be done; write nothing");
    struct arg_lit *replace =
        arg_lit0(NULL, "replace", "replace all of SERVICE's domains by the file's, in one transaction");
    struct arg_str *user =
        arg_str0("u", "user", "U", "run the domains as this host user (default: root, as the legacy program did)");
    struct arg_str *group =
        arg_str0("g", "group", "G", "run them as this host group (default: the user's primary group)");
    struct arg_lit *unjailed = arg_lit0(NULL, "unjailed",
                                        "a DIRECTORY that is no jail (/, or it holds the database or another "
                                        "domain's jail) is imported, marked unjailed, instead of refused");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(10);
    void *table[] = {service, file, dry, replace, user, group, unjailed, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("import"), table, n, argc, argv, &db);
    if (rc)
        goto out;

    vh_err e;
    const char *svc = service->sval[0], *path = file->filename[0];
    if (vh_valid_service(svc, 1, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    vh_row ident;
    if (vc_bulk_identity(user->count ? user->sval[0] : NULL, group->count ? group->sval[0] : NULL, &ident, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }

    vh_audit a;
    if (vh_audit_start(&a, argc, argv, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto audit;
    vh_importer *im = NULL;
    vh_import_stats st;
    memset(&st, 0, sizeof st);
    struct dry d = {svc};
    vh_import_report rep = {vc_print_diag, dry->count ? print_row : NULL, &d};
    vh_import_opts o = {svc, replace->count ? VH_IMPORT_REPLACE : VH_IMPORT_STRICT, dry->count > 0, &ident, 0, NULL,
                        NULL};
    /* issue 13: a directory that is no jail only with --unjailed */
    char abs[PATH_MAX + NAME_MAX + 2], rerun[8192];
    o.unjailed = unjailed->count > 0;
    o.dbfile = vc_db_abspath(db, abs, sizeof abs) == 0 ? abs : NULL;
    vc_command_with(db, argc, argv, "--unjailed", rerun, sizeof rerun);
    o.rerun = rerun;
    /* a dry run reads in one snapshot and takes no write lock */
    int r = dry->count ? vh_db_begin_read(h, &e) : vh_fleet_begin(h, &e);
    long nested = 0;
    if (r == 0 && (nested = vc_nest(h, db, NULL, NULL, &e)) < 0)
        r = -1;
    if (r == 0)
        r = vh_import_new(h, &im, &e);
    if (r == 0)
        r = vh_import_path(im, path, &o, &rep, &st, &e);
    vh_import_free(im);
    /* K8: the rows are in the transaction (a dry run writes none: it
     * cannot see them nest) */
    if (r == 0 && !st.parse.errors && !dry->count)
        r = vc_nest_refuse(h, db, nested, &e);
    /* one summary row for the whole file (audit.h) */
    if (r == 0 && !st.parse.errors && !dry->count)
        r = vh_audit_bulk(&a, h, "import", svc, path, st.added, st.removed, st.same, &e);
    char shown[4 * PATH_MAX + 8];
    vh_printable(path, shown, sizeof shown);
    if (r < 0) {
        rc = vc_abort_close(h, &e);
        fprintf(stderr, "vhostctl: nothing imported from %s\n", shown);
        goto audit;
    }
    if (st.parse.errors || dry->count) {
        vh_db_rollback(h);
        if (vh_db_close(h, &e) < 0) {
            rc = vc_error(&e);
            goto audit;
        }
        if (st.parse.errors) {
            fprintf(stderr,
                    "vhostctl: %s: %lu error%s, %lu warning%s: nothing %s - fix the lines above and run again\n", shown,
                    st.parse.errors, st.parse.errors == 1 ? "" : "s", st.parse.warnings,
                    st.parse.warnings == 1 ? "" : "s", dry->count ? "would be imported" : "imported");
            rc = VH_EX_DATAERR;
            goto audit;
        }
        printf("dry run: would import %lu domain%s of service %s from %s", st.added, st.added == 1 ? "" : "s", svc,
               shown);
        if (o.mode == VH_IMPORT_REPLACE)
            printf(", replacing its %lu existing domain%s", st.removed, st.removed == 1 ? "" : "s");
        if (st.same)
            printf(", %lu already there", st.same);
        printf(" (%lu warning%s); nothing written\n", st.parse.warnings, st.parse.warnings == 1 ? "" : "s");
        vc_print_identity(stdout, &ident, "they would");
        rc = 0;
        goto audit;
    }
    if (st.same && !st.added && !st.removed) {
        /* issue 13: every row already there - no change, so no commit
         * (no index rebuild, nothing for a history to record) */
        vh_db_rollback(h);
        if (vh_db_close(h, &e) < 0) {
            rc = vc_error(&e);
            goto audit;
        }
        printf("nothing to import: %lu domain%s of service %s from %s already there (%lu warning%s)\n", st.same,
               st.same == 1 ? "" : "s", svc, shown, st.parse.warnings, st.parse.warnings == 1 ? "" : "s");
        goto audit;
    }
    /* --replace removed rows: a jail that made another row's root no jail
     * may be gone with them (the index is rebuilt anyway: no keys) */
    if (st.removed && vc_rejudge_unjailed(h, db, &e) < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    if ((rc = vc_commit_audit(h, &a, NULL, 0)) != 0)
        goto audit;
    printf("imported %lu domain%s of service %s from %s", st.added, st.added == 1 ? "" : "s", svc, shown);
    if (o.mode == VH_IMPORT_REPLACE)
        printf(", replacing its %lu earlier domain%s", st.removed, st.removed == 1 ? "" : "s");
    if (st.same)
        printf(", %lu already there (unchanged)", st.same);
    printf(" (%lu warning%s)\n", st.parse.warnings, st.parse.warnings == 1 ? "" : "s");
    vc_print_identity(stdout, &ident, "they");
audit:
    vh_audit_free(&a);
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
