#include "vhostctl.h"

#include "addr.h"
#include "decide.h"
#include "db.h"
#include "exitcodes.h"
#include "hostname.h"
#include "jail.h"
#include "row.h"
#include "select.h"
#include "valid.h"

#include <sqlite3.h>
#include <string.h>

/* One candidate as the explanation shows it. */
struct probe_seen {
    vh_probe p;
    int exists, enabled, versions; /* the row's enabled (domains), versions (proxy_sources) */
};

/* The candidates of vh_select_probes for service on address (and name,
 * or NULL) against
 * table tbl ("domains" or "proxy_sources"), each looked up: the same
 * list, in the same order, as virtuald tries (select.c, ix.c), from the
 * prefix lengths in use now. In db's read transaction. Returns how many,
 * or -1 with e. */
static int explain(sqlite3 *db, const char *tbl, const char *service, const char *address, const char *name, int flags,
                   struct probe_seen *out, vh_err *e)
{
    static const char dom_sql[] = "SELECT enabled, 0 FROM domains WHERE service = ?1 AND address = ?2";
    static const char src_sql[] = "SELECT 1, versions FROM proxy_sources WHERE service = ?1 AND source = ?2";
    static vh_probe p[VH_PROBES_MAX];
    vh_prefix_lens lens;
    if (vh_select_lens(db, tbl, &lens, e) < 0)
        return -1;
    int n = vh_select_probes(service, address, name, &lens, flags, p);
    if (n < 0)
        return vh_fail(e, VH_EX_SOFTWARE, "'%s' is not a canonical address", address);
    int dom = strcmp(tbl, "domains") == 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, dom ? dom_sql : src_sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "explaining the lookup", e);
    for (int i = 0; i < n; i++) {
        out[i].p = p[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, p[i].svc, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p[i].key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        out[i].exists = rc == SQLITE_ROW;
        out[i].enabled = out[i].exists && sqlite3_column_int(st, 0) != 0;
        out[i].versions = out[i].exists ? sqlite3_column_int(st, 1) : 0;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return vh_db_fail(db, rc, "explaining the lookup", e);
        }
    }
    sqlite3_finalize(st);
    return n;
}

/* "exact", "prefix/24", ...: a rule as lookup and the log name it. */
static const char *rule_text(int rule, unsigned plen, char *buf, size_t n)
{
    if (rule == VH_RULE_PREFIX || rule == VH_RULE_PREFIX_ANY)
        snprintf(buf, n, "%s/%u", vh_select_rule_name(rule), plen);
    else
        snprintf(buf, n, "%s", vh_select_rule_name(rule));
    return buf;
}

static const char *versions_text(int v)
{
    return v == 1 ? "1" : v == 2 ? "2" : v == 3 ? "1,2" : "none";
}

/* The probes, in order: the first that exists decides (hit), those
 * before it missed, those after it are never tried. */
static void print_probes(const struct probe_seen *ps, int n, int json)
{
    int decided = 0;
    char rb[48];
    if (json)
        printf("[");
    for (int i = 0; i < n; i++) {
        const char *result = decided ? "not-tried" : ps[i].exists ? "hit" : "miss";
        rule_text(ps[i].p.rule, ps[i].p.plen, rb, sizeof rb);
        if (json) {
            printf("%s{\"rule\": \"%s\", \"service\": ", i ? ", " : "", rb);
            vc_json_string(stdout, ps[i].p.svc);
            printf(", \"key\": ");
            vc_json_string(stdout, ps[i].p.key);
            printf(", \"result\": \"%s\", \"exists\": %s}", result, ps[i].exists ? "true" : "false");
        } else {
            printf("  %2d  %-26s %-6s %-44s %s%s\n", i + 1, rb, ps[i].p.svc, ps[i].p.key,
                   decided        ? "not tried"
                   : ps[i].exists ? "hit: decides"
                                  : "miss",
                   decided && ps[i].exists ? " (a row exists: shadowed)" : "");
        }
        if (ps[i].exists)
            decided = 1;
    }
    if (json)
        printf("]");
}

/* lookup decides with the very functions virtuald runs per connection
 * (vh_decider: the lookup index when current, else vh_select and
 * vh_select_trust; trust checks included): what it prints is what
 * virtuald would do. The list of probes beside it is read from the
 * database with the same candidate list (vh_select_probes). */
int vc_cmd_lookup(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "service name as virtuald gets it");
    struct arg_str *ip = arg_str1(NULL, NULL, "IP",
                                  "the local address a client dialled (through a balancer: the original destination "
                                  "its PROXY header carries)");
    struct arg_str *peer = arg_str0(NULL, "peer", "IP",
                                    "the connection's peer: is it a trusted PROXY source for SERVICE (then a header "
                                    "is required), and which proxy-trust row decides");
    struct arg_str *name = arg_str0(NULL, "name", "NAME",
                                    "the host name the client asked for: the TLS server name (virtuald --tls-sni) or "
                                    "a balancer's PROXY v2 AUTHORITY; name and wildcard rows are tried with it");
    struct arg_lit *json = arg_lit0(NULL, "json", "print a JSON object");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {service, ip, peer, name, json, help, dbo, end};
    const int ntable = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("lookup"), table, ntable, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    char addr[VH_ADDR_TEXT], peer_addr[VH_ADDR_TEXT];
    if (vh_valid_service(service->sval[0], 0, &e) < 0 || vh_addr_canon(ip->sval[0], 0, addr, &e) < 0 ||
        (peer->count && vh_addr_canon(peer->sval[0], 0, peer_addr, &e) < 0)) {
        if (strchr(ip->sval[0], '/') && !peer->count)
            fprintf(stderr, "vhostctl: lookup takes the address a client dials, not a prefix: give one address "
                            "inside it (vhostctl list --address PREFIX shows the prefix's rows)\n");
        rc = vc_error(&e);
        goto out;
    }
    /* the name as virtuald normalises a server name or an AUTHORITY
     * (hostname.h); an IP literal is no name there, and none here */
    char nm[VH_HOSTNAME_MAX + 1] = "";
    if (name->count) {
        vh_hostname_error he = vh_hostname_norm((const unsigned char *)name->sval[0], strlen(name->sval[0]), nm);
        if (he != VH_HOSTNAME_OK) {
            char shown[VH_HOSTNAME_MAX + 8];
            vh_fail(&e, VH_EX_USAGE,
                    "--name %s: %s - virtuald refuses a ClientHello or AUTHORITY with such a name (status 76)",
                    vh_printable(name->sval[0], shown, sizeof shown), vh_hostname_error_text(he));
            rc = vc_error(&e);
            goto out;
        }
        if (!nm[0] && !json->count)
            printf("--name %s is an IP literal, which virtuald takes as no name: the address chooses\n", name->sval[0]);
        else if (!strchr(nm, '.') && !json->count)
            printf("--name %s has one label: no name row can match it (rows need two labels)\n", nm);
    }
    /* the explanation: one read of the database, the candidates of
     * both tables */
    static struct probe_seen dp[VH_PROBES_MAX], tp[VH_PROBES_MAX];
    int ndp = 0, ntp = 0;
    sqlite3 *h = NULL;
    vh_err xe;
    /* a database virtuald would refuse (untrusted, another schema) is
     * the decision's refusal below, as virtuald's: no explanation then */
    int explained = vh_db_open_runtime(db, &h, &xe) == 0;
    if (explained) {
        ndp = explain(h, "domains", service->sval[0], addr, nm, 0, dp, &xe);
        if (ndp >= 0 && peer->count)
            ntp = explain(h, "proxy_sources", service->sval[0], peer_addr, NULL, VH_SELECT_NO_DEFAULT, tp, &xe);
        vh_db_close(h, NULL);
        if (ndp < 0 || ntp < 0) {
            rc = vc_error(&xe);
            goto out;
        }
    }

    /* the decision, as virtuald makes it: the trust of the peer, then the row */
    vh_decider dc;
    vh_decision d;
    vh_trust t;
    memset(&d, 0, sizeof d);
    memset(&t, 0, sizeof t);
    int served = vh_decide_begin(&dc, db, &e) == 0 &&
                 (!peer->count || vh_decide_trust(&dc, service->sval[0], peer_addr, &t, &e) == 0) &&
                 vh_decide_select(&dc, service->sval[0], addr, nm, 0, &d, &e) == 0;
    vh_err ce;
    if (vh_decide_end(&dc, &ce) < 0 && served) {
        e = ce;
        served = 0;
    }
    if (served) {
        /* virtuald's phase 2 starts by opening the jail through the path
         * checker: a jail it would refuse is a refusal here too. */
        vh_jail j;
        served = vh_jail_open(&d.row, &j, &e) == 0;
        if (served)
            vh_jail_close(&j);
    }
    char rb[48];
    rule_text(d.rule, d.prefix_len, rb, sizeof rb);
    const vh_row *r = &d.row;
    if (json->count) {
        printf("{\"service\": ");
        vc_json_string(stdout, service->sval[0]);
        printf(", \"address\": ");
        vc_json_string(stdout, addr);
        printf(", \"name\": ");
        if (nm[0])
            vc_json_string(stdout, nm);
        else
            printf("null");
        printf(", \"served\": %s, \"rule\": ", served ? "true" : "false");
        vc_json_string(stdout, rb);
        printf(", \"prefix_len\": %u, \"from_index\": %s, \"probes\": ", d.prefix_len, d.from_index ? "true" : "false");
        print_probes(dp, ndp, 1);
        if (peer->count) {
            printf(", \"peer\": {\"address\": ");
            vc_json_string(stdout, peer_addr);
            printf(", \"any_trusted_sources\": %s, \"trusted\": %s, \"header_required\": %s, \"versions\": \"%s\", "
                   "\"decided_by\": ",
                   t.any ? "true" : "false", t.versions ? "true" : "false", t.versions ? "true" : "false",
                   versions_text(t.versions));
            if (t.versions) {
                printf("{\"service\": ");
                vc_json_string(stdout, t.svc);
                printf(", \"source\": ");
                vc_json_string(stdout, t.source);
                printf("}");
            } else {
                printf("null");
            }
            printf(", \"probes\": ");
            print_probes(tp, t.any ? ntp : 0, 1);
            printf("}");
        }
        if (d.rule) {
            printf(", \"row\": {\"service\": ");
            vc_json_string(stdout, r->service);
            printf(", \"address\": ");
            vc_json_string(stdout, r->address);
            printf(", \"root\": ");
            vc_json_string(stdout, r->root);
            printf(", \"base\": ");
            if (r->base[0])
                vc_json_string(stdout, r->base);
            else
                printf("null");
            printf(", \"user\": ");
            if (r->has_user)
                vc_json_string(stdout, r->user);
            else
                printf("null");
            printf(", \"uid\": %u, \"gid\": %u, \"enabled\": %s, \"net_bind_service\": %s, \"max_procs\": %u, "
                   "\"unjailed\": %s, \"max_instances\": %u, \"max_per_source\": %u, \"source_prefix4\": %u, "
                   "\"source_prefix6\": %u}",
                   r->has_user ? (unsigned)r->uid : 0u, r->has_user ? (unsigned)r->gid : 0u,
                   r->enabled ? "true" : "false", r->net_bind_service ? "true" : "false", (unsigned)r->max_procs,
                   r->unjailed ? "true" : "false", (unsigned)r->max_instances, (unsigned)r->max_per_source,
                   r->source_prefix4, r->source_prefix6);
        }
        if (!served) {
            printf(", \"status\": %d, \"reason\": ", e.code);
            vc_json_string(stdout, e.msg);
        }
        printf("}\n");
    } else if (served) {
        char root[4 * PATH_MAX];
        printf("served: %s on %s%s%s -> row %s %s (rule %d, %s)\n  root %s\n  user %s", service->sval[0], addr,
               nm[0] ? " name " : "", nm, r->service, r->address, d.rule, rb, vh_printable(r->root, root, sizeof root),
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
        if (r->base[0]) {
            char base[4 * PATH_MAX];
            printf("\n  base %s (read-only over the jail's code directories, in a mount namespace of its own)",
                   vh_printable(r->base, base, sizeof base));
        }
        printf("\n  net_bind_service %s\n  max_procs %u\n",
               r->has_user           ? "does not apply (a run-as service has no capabilities)"
               : r->net_bind_service ? "on"
                                     : "off",
               (unsigned)r->max_procs);
        if (r->max_instances || r->max_per_source) {
            printf("  limits");
            if (r->max_instances)
                printf(" at most %u at once", (unsigned)r->max_instances);
            if (r->max_per_source)
                printf("%s at most %u per source (/%u, /%u)", r->max_instances ? "," : "", (unsigned)r->max_per_source,
                       r->source_prefix4, r->source_prefix6);
            printf(" (vhostctl list --live: held now)\n");
        } else {
            printf("  limits none\n");
        }
        if (r->unjailed)
            printf("  unjailed yes: the operator chose this root, which is no jail (the set-uid exposure check, "
                   "THREATS K7, is skipped)\n");
    } else {
        printf("refused: %s on %s%s%s: %s (status %d)\n", service->sval[0], addr, nm[0] ? " name " : "", nm, e.msg,
               e.code);
    }
    if (!json->count && explained) {
        int lens = 0;
        for (int i = 0; i < ndp; i++)
            lens += dp[i].p.rule == VH_RULE_PREFIX;
        printf("probes, in the order virtuald tries them (%d prefix length%s in use; the first row that exists "
               "decides, enabled or not):\n",
               lens, lens == 1 ? "" : "s");
        print_probes(dp, ndp, 0);
        if (peer->count && !t.any)
            printf("peer %s: no trusted PROXY sources at all: virtuald reads no header from any peer; %s is the "
                   "address it dialled\n",
                   peer_addr, addr);
        else if (peer->count && t.versions)
            printf("peer %s: a trusted PROXY source for %s (row %s %s, versions %s): its PROXY header is required "
                   "(any other first bytes are refused), and %s is the original destination the header carries\n",
                   peer_addr, service->sval[0], t.svc, t.source, versions_text(t.versions), addr);
        else if (peer->count)
            printf("peer %s: not a trusted PROXY source for %s: no header is read (one sent anyway is refused); %s "
                   "is the address it dialled\n",
                   peer_addr, service->sval[0], addr);
        if (peer->count && t.any) {
            printf("trust probes (proxy-trust rows, the first that exists decides):\n");
            print_probes(tp, ntp, 0);
        }
    }
    /* the explanation was read apart from the decision: say so should a
     * change have landed between them */
    int first = -1;
    for (int i = 0; i < ndp && first < 0; i++)
        if (dp[i].exists)
            first = i;
    if (explained && (first < 0 ? 0 : dp[first].p.rule) != d.rule && (d.rule || e.code == VH_EX_NOHOST))
        fprintf(stderr, "vhostctl: warning: the database changed while lookup read it - run it again\n");
    rc = served ? VH_EX_OK : VH_EX_REFUSED;
out:
    arg_freetable(table, (size_t)ntable);
    return rc < 0 ? 0 : rc;
}
