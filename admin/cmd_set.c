/* set: change a domain's settings of sql/002 in place, one transaction
 * (its jail, user and key stay: those are remove and add). */
#include "vhostctl.h"

#include "addr.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "store.h"
#include "valid.h"

#include <limits.h>
#include <string.h>

int vc_limits_option(const char *nbs, const char *max_procs, int run_as, int *nbs_out, uint32_t *max_out, vh_err *e)
{
    if (nbs) {
        if (strcmp(nbs, "on") != 0 && strcmp(nbs, "off") != 0)
            return vh_fail(e, VH_EX_USAGE, "--net-bind-service takes 'on' or 'off', not '%.32s'", nbs);
        /* a run-as service has no capabilities to keep: a 1 there would
         * promise what virtuald never gives (the schema refuses it too) */
        if (run_as && strcmp(nbs, "on") == 0)
            return vh_fail(e, VH_EX_USAGE,
                           "--net-bind-service is for root services: a run-as service has no capabilities - "
                           "omit --user, or serve the port without it");
        *nbs_out = strcmp(nbs, "on") == 0;
    }
    if (max_procs && vh_valid_max_procs(max_procs, max_out, e) < 0)
        return -1;
    return 0;
}

int vc_cmd_set(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "service name, or '*'");
    struct arg_str *address = arg_str1(NULL, NULL, "ADDRESS", "address, or 'default'");
    struct arg_str *nbs = arg_str0(NULL, "net-bind-service", "on|off",
                                   "root service: keep CAP_NET_BIND_SERVICE (ports below 1024), or drop it");
    struct arg_str *maxp = arg_str0(NULL, "max-procs", "N", "most processes the service may run at once (1-4194304)");
    struct arg_str *unj = arg_str0(NULL, "unjailed", "on|off",
                                   "on: the root is no jail on purpose (/, or it holds the database or another "
                                   "domain's jail); off: no longer");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {service, address, nbs, maxp, unj, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("set"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    char addr[VH_ADDR_TEXT];
    int want_nbs = -1;
    uint32_t want_max = 0;
    if (vh_valid_service(service->sval[0], 1, &e) < 0 || vh_addr_canon(address->sval[0], 1, addr, &e) < 0 ||
        vc_limits_option(nbs->count ? nbs->sval[0] : NULL, maxp->count ? maxp->sval[0] : NULL, 0, &want_nbs, &want_max,
                         &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    int want_unj = -1;
    if (unj->count) {
        if (strcmp(unj->sval[0], "on") != 0 && strcmp(unj->sval[0], "off") != 0) {
            vh_fail(&e, VH_EX_USAGE, "--unjailed takes 'on' or 'off', not '%.32s'", unj->sval[0]);
            rc = vc_error(&e);
            goto out;
        }
        want_unj = strcmp(unj->sval[0], "on") == 0;
    }
    if (!nbs->count && !maxp->count && !unj->count) {
        vh_fail(&e, VH_EX_USAGE,
                "nothing to set - give --net-bind-service on|off, --max-procs N and/or --unjailed on|off");
        rc = vc_error(&e);
        goto out;
    }
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto out;
    if (vh_dbadmin_begin(h, &e) < 0 ||
        ((nbs->count || maxp->count) && vh_store_set_limits(h, service->sval[0], addr, want_nbs, want_max, &e) < 0)) {
        rc = vc_abort_close(h, &e);
        goto out;
    }
    if (want_unj >= 0) {
        /* issue 13: "on" only for a root that is no jail - the flag skips
         * K7 at run time, never a shortcut for a jail that fails it */
        char root[PATH_MAX], why[PATH_MAX + 64];
        int nj = vh_store_root_of(h, service->sval[0], addr, root, sizeof root, &e) < 0
                     ? -1
                     : vc_no_jail(h, db, root, why, sizeof why, &e);
        if (nj < 0) {
            rc = vc_abort_close(h, &e);
            goto out;
        }
        if (want_unj && !nj) {
            vh_fail(&e, VH_EX_USAGE,
                    "--unjailed on is for a root that is no jail (/, or a directory that holds the database or "
                    "another domain's jail); %s is a jail - fix what check reports about it instead",
                    root);
            rc = vc_abort_close(h, &e);
            goto out;
        }
        if (vh_store_set_unjailed(h, service->sval[0], addr, want_unj, &e) < 0) {
            rc = vc_abort_close(h, &e);
            goto out;
        }
        if (!want_unj && nj)
            fprintf(stderr,
                    "vhostctl: warning: %s is no jail (%s): give %s %s a jail of its own (vhostctl check reports "
                    "it; virtuald refuses a root of /)\n",
                    root, why, service->sval[0], addr);
    }
    vh_ixwrite_key key = {service->sval[0], addr};
    if ((rc = vc_commit_close(h, &key, 1)) != 0)
        goto out;
    printf("set %s %s:", service->sval[0], addr);
    if (want_nbs >= 0)
        printf(" net_bind_service %s", want_nbs ? "on" : "off");
    if (want_max)
        printf(" max_procs %u", (unsigned)want_max);
    if (want_unj >= 0)
        printf(" unjailed %s", want_unj ? "on" : "off");
    printf("\n");
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
