/* export: one service's domains in the legacy flat format. */
#include "vhostctl.h"

#include "db.h"
#include "exitcodes.h"
#include "export.h"
#include "valid.h"

int vc_cmd_export(const char *db, int argc, char **argv)
{
    struct arg_str *service =
        arg_str1("s", "service", "SERVICE", "the service whose domains are written ('*': the rows for every service)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {service, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("export"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    const char *svc = service->sval[0];
    if (vh_valid_service(svc, 1, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto out;
    vh_export_stats st;
    int r = vh_db_begin_read(h, &e);
    if (r == 0)
        r = vh_export(h, svc, stdout, &st, &e);
    if ((rc = vc_read_close(h, r, &e)) != 0)
        goto out;
    if (st.disabled)
        fprintf(stderr,
                "vhostctl: warning: %lu disabled domain%s written as '# disabled:' comment%s: the flat format cannot "
                "say disabled, and an import must not enable %s\n",
                st.disabled, st.disabled == 1 ? "" : "s", st.disabled == 1 ? "" : "s",
                st.disabled == 1 ? "it" : "them");
    if (st.with_user)
        fprintf(stderr,
                "vhostctl: warning: %lu domain%s run%s as a host user, which the flat format cannot say - import with "
                "--user to keep that\n",
                st.with_user, st.with_user == 1 ? "" : "s", st.with_user == 1 ? "s" : "");
    if (st.settings)
        fprintf(
            stderr,
            "vhostctl: warning: %lu domain%s %s --net-bind-service or --max-procs set, which the flat format cannot "
            "say - an import gives the defaults: vhostctl set them again after it\n",
            st.settings, st.settings == 1 ? "" : "s", st.settings == 1 ? "has" : "have");
    if (st.unjailed)
        fprintf(stderr,
                "vhostctl: warning: %lu domain%s %s marked unjailed (a root that is no jail, on purpose), which the "
                "flat format cannot say - an import refuses %s unless given --unjailed\n",
                st.unjailed, st.unjailed == 1 ? "" : "s", st.unjailed == 1 ? "is" : "are",
                st.unjailed == 1 ? "it" : "them");
    if (st.based)
        fprintf(stderr,
                "vhostctl: warning: %lu domain%s %s a base (a shared system layer), which the flat format cannot say "
                "- after an import %s only %s own programs: vhostctl set SERVICE ADDRESS --base DIR again\n",
                st.based, st.based == 1 ? "" : "s", st.based == 1 ? "has" : "have",
                st.based == 1 ? "it has" : "they have", st.based == 1 ? "its jail's" : "their jails'");
    if (st.skipped)
        fprintf(stderr,
                "vhostctl: warning: %lu domain%s on a prefix (NET/LEN), host name or wildcard skipped: the flat format "
                "holds addresses and "
                "default only - vhostctl list --service %s shows %s\n",
                st.skipped, st.skipped == 1 ? "" : "s", svc, st.skipped == 1 ? "it" : "them");
    if (st.bad)
        fprintf(stderr,
                "vhostctl: warning: %lu domain%s cannot be written in the flat format (a directory the format "
                "would read differently) and %s written as comments\n",
                st.bad, st.bad == 1 ? "" : "s", st.bad == 1 ? "is" : "are");
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
