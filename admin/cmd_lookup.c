#include "vhostctl.h"

#include "addr.h"
#include "decide.h"
#include "exitcodes.h"
#include "jail.h"
#include "row.h"
#include "select.h"
#include "valid.h"

#include <string.h>

/* lookup runs vh_decide, the very function virtuald runs per connection,
 * trust checks included: what it prints is what virtuald would do. */
int vc_cmd_lookup(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "service name as virtuald gets it");
    struct arg_str *ip = arg_str1(NULL, NULL, "IP", "the local address a client dialled");
    struct arg_lit *json = arg_lit0(NULL, "json", "print a JSON object");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {service, ip, json, help, dbo, end};
    int rc = vc_parse(vc_find("lookup"), table, 6, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    char addr[VH_ADDR_TEXT];
    if (vh_valid_service(service->sval[0], 0, &e) < 0 || vh_addr_canon(ip->sval[0], 0, addr, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    vh_decision d;
    int served = vh_decide(db, service->sval[0], addr, &d, &e) == 0;
    if (served) {
        /* virtuald's phase 2 starts by opening the jail through the path
         * checker: a jail it would refuse is a refusal here too. */
        vh_jail j;
        served = vh_jail_open(&d.row, &j, &e) == 0;
        if (served)
            vh_jail_close(&j);
    }
    const vh_row *r = &d.row;
    if (json->count) {
        printf("{\"service\": ");
        vc_json_string(stdout, service->sval[0]);
        printf(", \"address\": ");
        vc_json_string(stdout, addr);
        printf(", \"served\": %s, \"rule\": ", served ? "true" : "false");
        vc_json_string(stdout, vh_select_rule_name(d.rule));
        if (d.rule) {
            printf(", \"row\": {\"service\": ");
            vc_json_string(stdout, r->service);
            printf(", \"address\": ");
            vc_json_string(stdout, r->address);
            printf(", \"root\": ");
            vc_json_string(stdout, r->root);
            printf(", \"user\": ");
            if (r->has_user)
                vc_json_string(stdout, r->user);
            else
                printf("null");
            printf(", \"uid\": %u, \"gid\": %u, \"enabled\": %s, \"net_bind_service\": %s, \"max_procs\": %u, "
                   "\"unjailed\": %s}",
                   r->has_user ? (unsigned)r->uid : 0u, r->has_user ? (unsigned)r->gid : 0u,
                   r->enabled ? "true" : "false", r->net_bind_service ? "true" : "false", (unsigned)r->max_procs,
                   r->unjailed ? "true" : "false");
        }
        if (!served) {
            printf(", \"status\": %d, \"reason\": ", e.code);
            vc_json_string(stdout, e.msg);
        }
        printf("}\n");
    } else if (served) {
        char root[4 * PATH_MAX];
        printf("served: %s on %s -> row %s %s (rule %d, %s)\n  root %s\n  user %s", service->sval[0], addr, r->service,
               r->address, d.rule, vh_select_rule_name(d.rule), vh_printable(r->root, root, sizeof root),
               r->has_user ? r->user : "root (private mount namespace)");
        if (r->has_user) {
            /* The stored list is the user's whole group list, the
             * primary group included (getgrouplist): supplementary are
             * the others (issue 13 point 6). */
            int sup = 0;
            for (int i = 0; i < r->ngroups; i++)
                sup += r->groups[i] != r->gid;
            printf(" (uid %u, gid %u, %d supplementary group%s)", (unsigned)r->uid, (unsigned)r->gid, sup,
                   sup == 1 ? "" : "s");
        }
        printf("\n  net_bind_service %s\n  max_procs %u\n",
               r->has_user           ? "does not apply (a run-as service has no capabilities)"
               : r->net_bind_service ? "on"
                                     : "off",
               (unsigned)r->max_procs);
        if (r->unjailed)
            printf("  unjailed yes: the operator chose this root, which is no jail (the set-uid exposure check, "
                   "THREATS K7, is skipped)\n");
    } else {
        printf("refused: %s on %s: %s (status %d)\n", service->sval[0], addr, e.msg, e.code);
    }
    rc = served ? VH_EX_OK : VH_EX_REFUSED;
out:
    arg_freetable(table, 6);
    return rc < 0 ? 0 : rc;
}
