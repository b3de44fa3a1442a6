/* set: change a domain in place - its jail, run-as identity, comment,
 * enabled and the settings of sql/002 - in one transaction: the key keeps
 * its row throughout, never a moment without the domain (issue 13). */
#include "vhostctl.h"

#include "accept.h"
#include "addr.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "fleet.h"
#include "ident.h"
#include "store.h"
#include "valid.h"

#include <limits.h>
#include <stdlib.h>
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

/* "none", "0" or decimal digits up to max, into *out. 0 or -1. */
static int limit_number(const char *opt, const char *text, uint32_t max, uint32_t *out, vh_err *e)
{
    if (strcmp(text, "none") == 0) {
        *out = 0;
        return 0;
    }
    uint32_t v = 0;
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9' || len > 7 || (i == 0 && text[i] == '0' && len > 1))
            return vh_fail(e, VH_EX_USAGE, "%s takes 1..%u, or none for no limit, not '%.32s'", opt, max, text);
        v = v * 10 + (uint32_t)(text[i] - '0');
    }
    if (len == 0 || v > max)
        return vh_fail(e, VH_EX_USAGE, "%s takes 1..%u, or none for no limit, not '%.32s'", opt, max, text);
    *out = v;
    return 0;
}

int vc_conn_limits_option(const char *inst, const char *per_source, const char *prefix, vh_row *row, vh_err *e)
{
    if (inst && limit_number("--max-instances", inst, VH_ROW_MAX_INSTANCES, &row->max_instances, e) < 0)
        return -1;
    if (per_source && limit_number("--max-per-source", per_source, VH_ROW_MAX_PER_SOURCE, &row->max_per_source, e) < 0)
        return -1;
    if (prefix) {
        unsigned p4 = 0, p6 = 0;
        char tail = 0;
        if (sscanf(prefix, "%u,%u%c", &p4, &p6, &tail) != 2 || p4 < 8 || p4 > 32 || p6 < 16 || p6 > 128 ||
            strspn(prefix, "0123456789,") != strlen(prefix))
            return vh_fail(e, VH_EX_USAGE,
                           "--source-prefix takes V4,V6: the prefix lengths that group sources, 8..32 and 16..128 "
                           "(e.g. 24,64), not '%.32s'",
                           prefix);
        row->source_prefix4 = p4;
        row->source_prefix6 = p6;
    }
    return 0;
}

void vc_conn_limits_text(const vh_row *row, char *out, size_t n)
{
    if (!row->max_instances && !row->max_per_source) {
        snprintf(out, n, "-");
        return;
    }
    char inst[16] = "-";
    if (row->max_instances)
        snprintf(inst, sizeof inst, "%u", (unsigned)row->max_instances);
    if (row->max_per_source)
        snprintf(out, n, "%s:%u/%u,%u", inst, (unsigned)row->max_per_source, row->source_prefix4, row->source_prefix6);
    else
        snprintf(out, n, "%s", inst);
}

/* What set was asked to change (NULL / 0: keep). */
struct want {
    const char *root, *user, *group, *comment;
    int no_user, enabled, nbs; /* enabled, nbs: -1 keep */
    int unjailed;              /* --unjailed on|off (issue 13 point 2): 1, 0, -1 keep */
    uint32_t max_procs;
    const char *max_inst, *max_src, *src_prefix; /* issue 16: NULL keep */
    const char *base;                            /* sql/008: DIR or "none"; NULL keep */
};

/* The row after the change: *row (as it is) with w applied. 0, or -1
 * with e. */
static int apply(vh_row *row, const struct want *w, vh_err *e)
{
    if (w->root)
        snprintf(row->root, sizeof row->root, "%s", w->root);
    if (w->unjailed >= 0)
        row->unjailed = w->unjailed;
    if (w->no_user) {
        row->has_user = 0;
        row->user[0] = row->group[0] = '\0';
        row->uid = row->gid = 0;
        row->ngroups = 0;
    } else if (w->user || w->group) {
        /* --group alone: the same user, another group */
        if (!w->user && !row->has_user)
            return vh_fail(e, VH_EX_USAGE,
                           "--group needs --user: domain %s %s runs as root, with gid 0 and no supplementary groups",
                           row->service, row->address);
        char user[VH_NAME_MAX];
        snprintf(user, sizeof user, "%s", w->user ? w->user : row->user);
        vh_row r = *row;
        if (vh_ident_resolve(user, w->group, &r, e) < 0)
            return -1;
        *row = r;
    }
    if (w->comment)
        snprintf(row->comment, sizeof row->comment, "%s", w->comment);
    if (w->base && vc_base_option(w->base, row, e) < 0)
        return -1;
    if (w->enabled >= 0)
        row->enabled = w->enabled;
    if (w->nbs >= 0)
        row->net_bind_service = w->nbs;
    if (w->max_procs)
        row->max_procs = w->max_procs;
    if (vc_conn_limits_option(w->max_inst, w->max_src, w->src_prefix, row, e) < 0)
        return -1;
    /* the schema's CHECK refuses it too; this says why and what to do */
    if (row->has_user && row->net_bind_service)
        return vh_fail(e, VH_EX_DATAERR,
                       "domain %s %s would run as a user, which has no capabilities, but keep "
                       "CAP_NET_BIND_SERVICE - %s",
                       row->service, row->address,
                       w->nbs == 1 ? "--net-bind-service on is for root services (omit --user)"
                                   : "add --net-bind-service off");
    return 0;
}

int vc_cmd_set(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "service name, or '*'");
    struct arg_str *address =
        arg_str1(NULL, NULL, "ADDRESS", "address, prefix NET/LEN, 'default', host name or *.wildcard");
    struct arg_str *root =
        arg_str0(NULL, "root", "DIR", "serve the domain from jail DIR from now on (checked as add checks it)");
    struct arg_str *user = arg_str0("u", "user", "U", "run as this host user from now on");
    struct arg_lit *nouser =
        arg_lit0(NULL, "no-user", "run as root in its own mount namespace from now on (no run-as user)");
    struct arg_str *group = arg_str0("g", "group", "G", "run as this host group (default: the user's primary group)");
    struct arg_str *comment = arg_str0(NULL, "comment", "TEXT", "free text shown by list ('' clears it)");
    struct arg_str *nbs = arg_str0(NULL, "net-bind-service", "on|off",
                                   "root service: keep CAP_NET_BIND_SERVICE (ports below 1024), or drop it");
    struct arg_str *maxp = arg_str0(NULL, "max-procs", "N", "most processes the service may run at once (1-4194304)");
    struct arg_str *maxi = arg_str0(NULL, "max-instances", "N|none",
                                    "most connections the domain serves at once (1-4096; none: no limit)");
    struct arg_str *maxs =
        arg_str0(NULL, "max-per-source", "N|none", "most of them from one source (1-64; none: no limit)");
    struct arg_str *spfx =
        arg_str0(NULL, "source-prefix", "V4,V6", "sources are grouped by these prefix lengths (default 32,64)");
    struct arg_lit *enable = arg_lit0(NULL, "enable", "enable the domain");
    struct arg_lit *disable = arg_lit0(NULL, "disable", "disable the domain: its connections are refused");
    struct arg_lit *force =
        arg_lit0(NULL, "force", "change even when the jail check finds errors or the new jail would nest");
    struct arg_str *unj = arg_str0(NULL, "unjailed", "on|off",
                                   "on: the root is no jail on purpose (/, or it holds the database or another "
                                   "domain's jail); off: no longer");
    struct arg_str *base = arg_str0(NULL, "base", "DIR|none",
                                    "bind this read-only system layer over the jail's bin, sbin, lib*, usr from now "
                                    "on (none: the jail's own)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(10);
    void *table[] = {service, address, root,   user,    nouser, group, comment, nbs,  maxp, maxi,
                     maxs,    spfx,    enable, disable, unj,    force, base,    help, dbo,  end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("set"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    char addr[VH_KEY_TEXT];
    struct want w = {NULL, NULL, NULL, NULL, 0, -1, -1, -1, 0, NULL, NULL, NULL, NULL};
    if (vh_valid_service(service->sval[0], 1, &e) < 0 || vh_key_canon(address->sval[0], 1, addr, &e) < 0 ||
        vc_limits_option(nbs->count ? nbs->sval[0] : NULL, maxp->count ? maxp->sval[0] : NULL, 0, &w.nbs, &w.max_procs,
                         &e) < 0 ||
        (root->count && vh_valid_root(root->sval[0], &e) < 0)) {
        rc = vc_error(&e);
        goto out;
    }
    if (user->count && nouser->count)
        vh_fail(&e, VH_EX_USAGE, "--user and --no-user contradict each other - give one");
    else if (group->count && nouser->count)
        vh_fail(&e, VH_EX_USAGE, "--group needs a run-as user: a root service (--no-user) runs with gid 0");
    else if (enable->count && disable->count)
        vh_fail(&e, VH_EX_USAGE, "--enable and --disable contradict each other - give one");
    else if (comment->count && vc_comment_valid(comment->sval[0], &e) < 0)
        ;
    else if (unj->count && strcmp(unj->sval[0], "on") != 0 && strcmp(unj->sval[0], "off") != 0)
        vh_fail(&e, VH_EX_USAGE, "--unjailed takes 'on' or 'off', not '%.32s'", unj->sval[0]);
    else if (vc_conn_limits_option(maxi->count ? maxi->sval[0] : NULL, maxs->count ? maxs->sval[0] : NULL,
                                   spfx->count ? spfx->sval[0] : NULL, &(vh_row){0}, &e) < 0)
        ;
    else if (!root->count && !user->count && !nouser->count && !group->count && !comment->count && !nbs->count &&
             !maxp->count && !enable->count && !disable->count && !unj->count && !maxi->count && !maxs->count &&
             !spfx->count && !base->count)
        vh_fail(&e, VH_EX_USAGE,
                "nothing to set - give --root, --user, --no-user, --group, --comment, --net-bind-service, "
                "--max-procs, --max-instances, --max-per-source, --source-prefix, --enable, --disable, --unjailed "
                "or --base");
    else if (base->count && vc_base_option(base->sval[0], &(vh_row){0}, &e) < 0)
        ;
    else
        e.code = 0;
    if (e.code) {
        rc = vc_error(&e);
        goto out;
    }
    w.root = root->count ? root->sval[0] : NULL;
    w.user = user->count ? user->sval[0] : NULL;
    w.group = group->count ? group->sval[0] : NULL;
    w.comment = comment->count ? comment->sval[0] : NULL;
    w.no_user = nouser->count > 0;
    w.enabled = enable->count ? 1 : disable->count ? 0 : -1;
    w.unjailed = unj->count ? strcmp(unj->sval[0], "on") == 0 : -1;
    w.max_inst = maxi->count ? maxi->sval[0] : NULL;
    w.max_src = maxs->count ? maxs->sval[0] : NULL;
    w.src_prefix = spfx->count ? spfx->sval[0] : NULL;
    w.base = base->count ? base->sval[0] : NULL;

    vh_audit a;
    if (vh_audit_start(&a, argc, argv, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    vh_row *row = malloc(sizeof *row);
    sqlite3 *h = NULL;
    if (!row) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto audit;
    }
    if ((rc = vc_open(db, &h)) != 0)
        goto audit;
    /* One transaction from the read of the row to its rewrite: the key
     * keeps a row all the way, virtuald sees the old row or the new one. */
    if (vh_fleet_begin(h, &e) < 0 || vh_audit_key(&a, h, service->sval[0], addr, &e) < 0 ||
        vh_store_get(h, service->sval[0], addr, row, &e) < 0 || apply(row, &w, &e) < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    /* Issue 13 point 2: the row is unjailed exactly when its (new) root is
     * no jail and the operator said so. --unjailed on for a real jail is
     * refused (the flag skips K7 at run time: never a shortcut for a jail
     * that fails it); a new root that is a real jail drops the flag; a new
     * root that is no jail needs --unjailed on. */
    char why[PATH_MAX + 64];
    int nojail = (w.root || w.unjailed >= 0) ? vc_no_jail(h, db, row->root, why, sizeof why, &e) : row->unjailed;
    if (nojail < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    if (w.unjailed == 1 && !nojail)
        vh_fail(&e, VH_EX_USAGE,
                "--unjailed on is for a root that is no jail (/, or a directory that holds the database or another "
                "domain's jail); %s is a jail - fix what check reports about it instead",
                row->root);
    else if (w.root && w.unjailed < 0 && nojail && !row->unjailed)
        vh_fail(&e, VH_EX_OSFILE,
                "%s is no jail (%s) - give %s %s a jail of its own, or keep it on purpose: vhostctl set %s %s --root "
                "%s --unjailed on",
                row->root, why, service->sval[0], addr, service->sval[0], addr, row->root);
    else
        e.code = 0;
    if (e.code) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    if (w.root && !nojail)
        row->unjailed = 0;
    if (w.unjailed == 0 && nojail)
        fprintf(stderr,
                "vhostctl: warning: %s is no jail (%s): give %s %s a jail of its own (vhostctl check reports it; "
                "virtuald refuses a root of /)\n",
                row->root, why, service->sval[0], addr);
    /* A new jail, or a new identity in it, is checked as add checks it
     * (the ownership findings depend on who runs there); a new jail must
     * not nest (K8). Both with --force as add has it. */
    long jail_errors = 0, nested = 0;
    if ((w.root || w.user || w.group || w.no_user) &&
        (rc = vc_jail_admit(row, force->count > 0, "set", &jail_errors)) != 0) {
        vh_db_rollback(h);
        vh_db_close(h, NULL);
        goto audit;
    }
    /* sql/008: a new base, or a base kept for a new jail, identity or
     * jail state, is checked as a jail (the run-as user must not be able
     * to change it), and the jail gets its mount points */
    int base_changed = row->base[0] && (w.base || w.root || w.user || w.group || w.no_user || w.unjailed >= 0);
    long base_errors = 0;
    if (base_changed && (rc = vc_base_admit(row, force->count > 0, "set", &base_errors)) != 0) {
        vh_db_rollback(h);
        vh_db_close(h, NULL);
        goto audit;
    }
    jail_errors += base_errors;
    if (base_changed && vc_base_mountpoints(row, &e) < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    if (vh_store_update(h, row, &e) < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    if (w.root && !row->unjailed && (rc = vc_nest_admit(h, db, row->root, force->count > 0, "set", &nested)) != 0) {
        vh_db_rollback(h);
        vh_db_close(h, NULL);
        goto audit;
    }
    if (row->base[0] && (w.base || w.root) &&
        (rc = vc_base_nest_admit(h, row->base, force->count > 0, "set", &nested)) != 0) {
        vh_db_rollback(h);
        vh_db_close(h, NULL);
        goto audit;
    }
    /* the domain's acceptances judged its old jail or identity: they go
     * (check shows the findings again, to be judged anew) */
    int withdrawn =
        (w.root || w.user || w.group || w.no_user) ? vh_accept_withdraw_domain(h, service->sval[0], addr, &e) : 0;
    if (withdrawn < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    /* a moved jail may have been what made another row's root no jail:
     * that row's unjailed mark goes (fail closed) */
    int cleared = w.root ? vc_rejudge_unjailed(h, db, &e) : 0;
    if (cleared < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    vh_ixwrite_key key = {service->sval[0], addr};
    /* a mark taken off changes rows virtuald reads: the index is rebuilt */
    if ((rc = vc_commit_audit(h, &a, cleared ? NULL : &key, cleared ? 0 : 1)) != 0)
        goto audit;
    char shown[4 * PATH_MAX + 8];
    printf("set %s %s:", service->sval[0], addr);
    if (w.root)
        printf(" root %s", vh_printable(row->root, shown, sizeof shown));
    if (w.user || w.group)
        printf(" user %s:%s (uid %u, gid %u)", vh_printable(row->user, shown, sizeof shown), row->group,
               (unsigned)row->uid, (unsigned)row->gid);
    if (w.no_user)
        printf(" user root (a private mount namespace)");
    if (w.comment)
        printf(" comment %s", vh_printable(row->comment, shown, sizeof shown));
    if (w.enabled >= 0)
        printf(" %s", w.enabled ? "enabled" : "disabled");
    if (w.nbs >= 0)
        printf(" net_bind_service %s", w.nbs ? "on" : "off");
    if (w.max_procs)
        printf(" max_procs %u", (unsigned)w.max_procs);
    if (w.unjailed >= 0 || w.root)
        printf(" unjailed %s", row->unjailed ? "on" : "off");
    if (w.base)
        printf(" base %s", row->base[0] ? vh_printable(row->base, shown, sizeof shown) : "none");
    if (w.max_inst || w.max_src || w.src_prefix) {
        /* issue 16: the row's limits after the change, as list shows them */
        char lim[48];
        vc_conn_limits_text(row, lim, sizeof lim);
        printf(" limits %s", strcmp(lim, "-") == 0 ? "none" : lim);
    }
    printf("\n");
    if (withdrawn > 0)
        fprintf(stderr,
                "vhostctl: %d acceptance%s of %s %s withdrawn: %s judged its old jail or user - vhostctl check "
                "shows the findings again\n",
                withdrawn, withdrawn == 1 ? "" : "s", service->sval[0], addr, withdrawn == 1 ? "it" : "they");
    if (jail_errors + nested)
        fprintf(stderr, "vhostctl: warning: set with --force despite %ld jail error%s\n", jail_errors + nested,
                jail_errors + nested == 1 ? "" : "s");
audit:
    free(row);
    vh_audit_free(&a);
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
