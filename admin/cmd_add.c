#include "vhostctl.h"

#include "addr.h"
#include "cgroup.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "fleet.h"
#include "ident.h"
#include "row.h"
#include "store.h"

#include <string.h>

/* Issue 13: the refusal of a root that is no jail, naming both ways. */
static int refuse_no_jail(const char *db, int argc, char **argv, const vh_row *row, const char *why)
{
    char cmd[8192], root[4 * PATH_MAX + 8];
    vc_command_with(db, argc, argv, "--unjailed", cmd, sizeof cmd);
    fprintf(stderr,
            "vhostctl: %s is no jail: %s - its service could read and change the host's files (/etc/shadow) or "
            "other domains' jails; give %s %s a jail of its own (vhostctl provision), or, to run it without one on "
            "purpose: %s\n",
            vh_printable(row->root, root, sizeof root), why, row->service, row->address, cmd);
    return VH_EX_OSFILE; /* as add's other refusals of a jail */
}

int vc_cmd_add(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "inetd service name, or '*' for every service");
    struct arg_str *address =
        arg_str1(NULL, NULL, "ADDRESS",
                 "local IPv4/IPv6 address, a prefix NET/LEN (127.0.1.0/24, fd56::/64), 'default', or a host name "
                 "(www.example.org) or wildcard (*.example.org) chosen by TLS server name (virtuald --tls-sni)");
    struct arg_str *root = arg_str1(NULL, NULL, "ROOT", "absolute path of the jail directory");
    struct arg_str *user =
        arg_str0("u", "user", "U", "run as this host user (omit: root service in its own namespace)");
    struct arg_str *group = arg_str0("g", "group", "G", "run as this host group (default: the user's primary group)");
    struct arg_str *comment = arg_str0(NULL, "comment", "TEXT", "free text shown by list");
    struct arg_lit *disabled = arg_lit0(NULL, "disabled", "add the domain disabled");
    struct arg_lit *nbs =
        arg_lit0(NULL, "net-bind-service", "root service: keep CAP_NET_BIND_SERVICE (ports below 1024)");
    struct arg_str *maxp =
        arg_str0(NULL, "max-procs", "N", "most processes the service may run at once (default 1024)");
    struct arg_str *maxi =
        arg_str0(NULL, "max-instances", "N", "most connections the domain serves at once (1-4096; default: no limit)");
    struct arg_str *maxs =
        arg_str0(NULL, "max-per-source", "N", "most of them from one source (1-64; default: no limit)");
    struct arg_str *spfx =
        arg_str0(NULL, "source-prefix", "V4,V6", "sources are grouped by these prefix lengths (default 32,64)");
    struct arg_lit *force = arg_lit0(NULL, "force", "add even when the jail check finds errors");
    struct arg_lit *unjailed = arg_lit0(NULL, "unjailed",
                                        "ROOT is no jail on purpose (/, or it holds the database or another "
                                        "domain's jail): run the service on the host's file system");
    struct arg_str *base = arg_str0(NULL, "base", "DIR",
                                    "a read-only system layer built by provision, bound over the jail's bin, sbin, "
                                    "lib*, usr (doc/jails.md)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(10);
    void *table[] = {service, address, root, user,  group,    comment, disabled, nbs, maxp,
                     maxi,    maxs,    spfx, force, unjailed, base,    help,     dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("add"), table, n, argc, argv, &db);
    if (rc)
        goto out;

    vh_err e;
    vh_row row;
    vh_row_init(&row);
    if (vc_order_hint("add", service->sval[0], address->sval[0], root->sval[0], &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    if (vh_valid_service(service->sval[0], 1, &e) < 0 || vh_key_canon(address->sval[0], 1, row.address, &e) < 0 ||
        vh_valid_root(root->sval[0], &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    snprintf(row.service, sizeof row.service, "%s", service->sval[0]);
    snprintf(row.root, sizeof row.root, "%s", root->sval[0]);
    /* the domain's running file and pids cgroup are named by its key
     * (cgroup.h): a key too long for a file name could never be served */
    char cgname[VH_CGROUP_NAME_MAX + 1];
    if (vh_cgroup_name(row.service, row.address, cgname, sizeof cgname, &e) < 0) {
        vh_fail(&e, VH_EX_DATAERR,
                "key '%s' is too long for service '%s': the domain's running file and pids cgroup are named by "
                "both, at most %d bytes - give a shorter name",
                row.address, row.service, VH_CGROUP_NAME_MAX);
        rc = vc_error(&e);
        goto out;
    }
    if (comment->count && vc_comment_valid(comment->sval[0], &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    snprintf(row.comment, sizeof row.comment, "%s", comment->count ? comment->sval[0] : "");
    row.enabled = !disabled->count;
    if (group->count && !user->count) {
        vh_fail(&e, VH_EX_USAGE, "--group needs --user: a root service runs with gid 0 and no supplementary groups");
        rc = vc_error(&e);
        goto out;
    }
    if (vc_limits_option(nbs->count ? "on" : NULL, maxp->count ? maxp->sval[0] : NULL, user->count,
                         &row.net_bind_service, &row.max_procs, &e) < 0 ||
        vc_conn_limits_option(maxi->count ? maxi->sval[0] : NULL, maxs->count ? maxs->sval[0] : NULL,
                              spfx->count ? spfx->sval[0] : NULL, &row, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    if (user->count && vh_ident_resolve(user->sval[0], group->count ? group->sval[0] : NULL, &row, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }

    /* Issue 13: a root that is no jail ("/", the database's directories
     * here; another domain's jail below it in the transaction) only with
     * --unjailed, which --force does not replace. The flag is taken for
     * what the operator says until the transaction checks it. */
    char why[PATH_MAX + 64];
    int nojail = vc_no_jail(NULL, db, row.root, why, sizeof why, &e);
    if (nojail > 0 && !unjailed->count) {
        rc = refuse_no_jail(db, argc, argv, &row, why);
        goto out;
    }
    row.unjailed = unjailed->count > 0;
    if (base->count && vc_base_option(base->sval[0], &row, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }

    /* The jail: the path with the checker virtuald runs per connection,
     * then the deep scan; every finding is printed, errors refuse. */
    long jail_errors = 0, nested = 0;
    if ((rc = vc_jail_admit(&row, force->count > 0, "add", &jail_errors)) != 0)
        goto out;
    /* sql/008: the base by the same rules, then its mount points in the
     * jail (empty directories: harmless should the add fail later) */
    long base_errors = 0;
    if ((rc = vc_base_admit(&row, force->count > 0, "add", &base_errors)) != 0)
        goto out;
    jail_errors += base_errors;
    if (row.base[0] && vc_base_mountpoints(&row, &e) < 0) {
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
    if (vh_fleet_begin(h, &e) < 0 || (nojail = vc_no_jail(h, db, row.root, why, sizeof why, &e)) < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    if (nojail != row.unjailed) {
        vh_db_rollback(h);
        vh_db_close(h, NULL);
        if (nojail)
            rc = refuse_no_jail(db, argc, argv, &row, why);
        else {
            fprintf(stderr,
                    "vhostctl: --unjailed is for a root that is no jail (/, or a directory that holds the database "
                    "or another domain's jail); %s is a jail - add it without --unjailed\n",
                    row.root);
            rc = VH_EX_USAGE;
        }
        goto audit;
    }
    if (vh_audit_key(&a, h, row.service, row.address, &e) < 0 || vh_store_add(h, &row, &e) < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    /* K8: in the transaction, with the new row: its jail inside another
     * domain's, another inside it, or the database inside it. An
     * unjailed row is no jail: it neither nests nor holds (nest.h). */
    if (!row.unjailed && (rc = vc_nest_admit(h, db, row.root, force->count > 0, "add", &nested)) != 0) {
        vh_db_rollback(h);
        vh_db_close(h, NULL);
        goto audit;
    }
    if (row.base[0] && (rc = vc_base_nest_admit(h, row.base, force->count > 0, "add", &nested)) != 0) {
        vh_db_rollback(h);
        vh_db_close(h, NULL);
        goto audit;
    }
    vh_ixwrite_key key = {row.service, row.address};
    if ((rc = vc_commit_audit(h, &a, &key, 1)) != 0)
        goto audit;
    if (row.unjailed)
        printf("unjailed: %s %s runs on the host's file system below %s, as the operator chose (--unjailed)\n",
               row.service, row.address, row.root);
    if (row.has_user)
        printf("added %s %s -> %s as %s:%s (uid %u, gid %u)%s\n", row.service, row.address, row.root, row.user,
               row.group, (unsigned)row.uid, (unsigned)row.gid, row.enabled ? "" : ", disabled");
    else
        printf("added %s %s -> %s as root %s%s\n", row.service, row.address, row.root,
               vh_row_userns(&row) ? "of a user namespace of its own (its jail an idmapped mount)"
                                   : "of the host in a private mount namespace",
               row.enabled ? "" : ", disabled");
    if (row.base[0])
        printf("base: %s binds %s read-only over its code directories\n", row.root, row.base);
    if (jail_errors + nested)
        fprintf(stderr, "vhostctl: warning: added with --force despite %ld jail error%s\n", jail_errors + nested,
                jail_errors + nested == 1 ? "" : "s");
audit:
    vh_audit_free(&a);
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
