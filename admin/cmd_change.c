/* remove, enable, disable: one row, one transaction. */
#include "vhostctl.h"

#include "addr.h"
#include "db.h"
#include "dbadmin.h"
#include "endtree.h"
#include "exitcodes.h"
#include "store.h"
#include "valid.h"

enum op { OP_REMOVE, OP_ENABLE, OP_DISABLE };

/* --kill: end the domain's running service trees (endtree.h). 0, or an
 * exit status with the message printed. */
static int end_services(const char *service, const char *addr)
{
    vh_err e;
    long ended = 0, left = 0;
    if (vh_endtree_domain(service, addr, &ended, &left, &e) < 0)
        return vc_error(&e);
    printf("ended %ld running service%s of %s %s\n", ended, ended == 1 ? "" : "s", service, addr);
    if (left > 0) {
        fprintf(stderr, "vhostctl: %ld process%s of %s %s still running after 3 s - run the command again\n", left,
                left == 1 ? "" : "es", service, addr);
        return VH_EX_TEMPFAIL;
    }
    return 0;
}

static int change(const struct vc_cmd *cmd, enum op op, const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "service name, or '*'");
    struct arg_str *address =
        arg_str1(NULL, NULL, "ADDRESS", "address, prefix NET/LEN, 'default', host name or *.wildcard");
    /* Issue 13 point 10: --kill for disable and remove only. */
    struct arg_lit *kill_opt =
        op == OP_ENABLE ? NULL : arg_lit0(NULL, "kill", "also end the domain's running services");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[6];
    int n = 0;
    table[n++] = service;
    table[n++] = address;
    if (kill_opt)
        table[n++] = kill_opt;
    table[n++] = help;
    table[n++] = dbo;
    table[n++] = end;
    int rc = vc_parse(cmd, table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    char addr[VH_KEY_TEXT];
    if (vh_valid_service(service->sval[0], 1, &e) < 0 || vh_key_canon(address->sval[0], 1, addr, &e) < 0) {
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
    int r = vh_dbadmin_begin(h, &e);
    if (r == 0)
        r = vh_audit_key(&a, h, service->sval[0], addr, &e);
    if (r == 0)
        r = op == OP_REMOVE ? vh_store_remove(h, service->sval[0], addr, &e)
                            : vh_store_set_enabled(h, service->sval[0], addr, op == OP_ENABLE, &e);
    /* a removed jail may have been what made another row's root no jail:
     * that row's unjailed mark goes (fail closed) */
    int cleared = 0;
    if (r == 0 && op == OP_REMOVE)
        r = cleared = vc_rejudge_unjailed(h, db, &e);
    if (r < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    vh_ixwrite_key key = {service->sval[0], addr};
    /* a mark taken off changes rows virtuald reads: the index is rebuilt */
    if ((rc = vc_commit_audit(h, &a, cleared ? NULL : &key, cleared ? 0 : 1)) != 0)
        goto audit;
    printf("%s %s %s\n",
           op == OP_REMOVE   ? "removed"
           : op == OP_ENABLE ? "enabled"
                             : "disabled",
           service->sval[0], addr);
    /* Issue 13 point 10: after the commit, so that no new connection of
     * the domain is served while its running ones are ended. */
    if (kill_opt && kill_opt->count)
        rc = end_services(service->sval[0], addr);
audit:
    vh_audit_free(&a);
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}

int vc_cmd_remove(const char *db, int argc, char **argv)
{
    return change(vc_find("remove"), OP_REMOVE, db, argc, argv);
}

int vc_cmd_enable(const char *db, int argc, char **argv)
{
    return change(vc_find("enable"), OP_ENABLE, db, argc, argv);
}

int vc_cmd_disable(const char *db, int argc, char **argv)
{
    return change(vc_find("disable"), OP_DISABLE, db, argc, argv);
}
