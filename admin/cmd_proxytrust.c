/* proxy-trust: the balancers allowed - and obliged - to send a PROXY
 * protocol header (issue 15, sql/004 proxy_sources; doc/design.md
 * "Behind a load balancer: keys and trust"). One transaction per change,
 * audited into the history like a domain's, the lookup index's header
 * brought up to date as for any other change. */
#include "vhostctl.h"

#include "addr.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "fleet.h"
#include "valid.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A trusted source row as JSON (history's before and after). */
static const char json_sql[] =
    "SELECT json_object('proxy_source', json_object('service', service, 'source', source, 'versions', versions,"
    " 'comment', comment, 'created', created)) FROM proxy_sources WHERE service = ?1 AND source = ?2";

/* The row (service, source) as JSON into *out (NULL when there is none). */
static int row_json(sqlite3 *h, const char *service, const char *source, char **out, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = sqlite3_prepare_v2(h, json_sql, sizeof json_sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(h, rc, "reading the trusted PROXY sources", e);
    sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && !(*out = strdup((const char *)sqlite3_column_text(st, 0))))
        rc = SQLITE_NOMEM;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vh_db_fail(h, rc, "reading the trusted PROXY sources", e);
    return 0;
}

/* "1", "2", "1,2" (or "2,1") into the bitmask of proxy_sources.versions. */
static int parse_versions(const char *s, int *out, vh_err *e)
{
    if (strcmp(s, "1") == 0)
        *out = 1;
    else if (strcmp(s, "2") == 0)
        *out = 2;
    else if (strcmp(s, "1,2") == 0 || strcmp(s, "2,1") == 0)
        *out = 3;
    else
        return vh_fail(e, VH_EX_USAGE,
                       "--versions takes 1, 2 or 1,2 (the PROXY protocol versions the balancer may send), not '%s'", s);
    return 0;
}

static const char *versions_text(int v)
{
    return v == 1 ? "1" : v == 2 ? "2" : v == 3 ? "1,2" : "?";
}

/* SOURCE as stored: an address or a prefix, canonical; never 'default'. */
static int source_canon(const char *in, char out[VH_ADDR_TEXT], vh_err *e)
{
    if (strcmp(in, VH_ADDR_DEFAULT) == 0)
        return vh_fail(e, VH_EX_DATAERR,
                       "a trusted source is the balancers' address or prefix: 'default' would let any peer choose "
                       "the jail with a PROXY header - give the balancers' addresses (e.g. 10.0.0.5 or 10.0.0.0/29)");
    return vh_addr_key_canon(in, 0, out, e);
}

/* Red team: a trusted prefix shorter than /8 (IPv4) or /16 (IPv6) is a
 * large part of the Internet - two /1s trust every peer, and then any
 * client chooses any row with a PROXY header. Balancers live in small
 * networks: such a prefix needs --wide, the operator's explicit word. */
#define VH_TRUST_WIDE4 8
#define VH_TRUST_WIDE6 16
static int wide_check(const char *source, int wide, vh_err *e)
{
    vh_prefix p;
    if (wide || !vh_prefix_parse_key(source, &p))
        return 0;
    unsigned min = p.family == AF_INET ? VH_TRUST_WIDE4 : VH_TRUST_WIDE6;
    if (p.len >= min)
        return 0;
    return vh_fail(e, VH_EX_DATAERR,
                   "trusting %s would let every peer in it choose any domain with a PROXY header (a /%u holds %s) - "
                   "give the balancers' own addresses or a small prefix, or add --wide if you really mean it",
                   source, p.len, p.family == AF_INET ? "more than a /8 of IPv4" : "more than a /16 of IPv6");
}

/* One change: add (versions > 0) or remove, with its history row. */
static int change(const char *db, int argc, char **argv, const char *service, const char *source, int versions,
                  const char *comment)
{
    static const char ins[] = "INSERT INTO proxy_sources (service, source, versions, comment) VALUES (?1, ?2, ?3, ?4)";
    static const char del[] = "DELETE FROM proxy_sources WHERE service = ?1 AND source = ?2";
    vh_err e;
    vh_audit a;
    if (vh_audit_start(&a, argc, argv, &e) < 0)
        return vc_error(&e);
    sqlite3 *h = NULL;
    char *before = NULL, *after = NULL;
    int rc = vc_open(db, &h);
    if (rc != 0)
        goto out;
    sqlite3_stmt *st = NULL;
    int r = vh_fleet_begin(h, &e);
    if (r == 0)
        r = row_json(h, service, source, &before, &e);
    if (r == 0 && versions && before)
        r = vh_fail(&e, VH_EX_DATAERR,
                    "%s is already a trusted PROXY source for service %s - to change it, vhostctl proxy-trust "
                    "remove %s%s%s, then add it again",
                    source, service, source, strcmp(service, VH_SERVICE_ANY) ? " --service " : "",
                    strcmp(service, VH_SERVICE_ANY) ? service : "");
    if (r == 0 && !versions && !before)
        r = vh_fail(&e, VH_EX_NOHOST,
                    "%s is not a trusted PROXY source for service %s - see vhostctl proxy-trust list (a row for '*' "
                    "is removed with --service '*', the default)",
                    source, service);
    if (r == 0) {
        int s = sqlite3_prepare_v2(h, versions ? ins : del, -1, &st, NULL);
        if (s == SQLITE_OK) {
            sqlite3_bind_text(st, 1, service, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
            if (versions) {
                sqlite3_bind_int(st, 3, versions);
                sqlite3_bind_text(st, 4, comment ? comment : "", -1, SQLITE_STATIC);
            }
            s = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (s != SQLITE_DONE)
            r = vh_db_fail(h, s, versions ? "adding the trusted PROXY source" : "removing the trusted PROXY source",
                           &e);
    }
    if (r == 0)
        r = row_json(h, service, source, &after, &e);
    if (r == 0)
        r = vh_audit_summary(&a, before, after, &e);
    if (r < 0) {
        rc = vc_abort_close(h, &e);
        goto out;
    }
    /* no domain row changed: the index's header (features, trusted
     * sources) is rewritten in place - keys given, none of them */
    vh_ixwrite_key none = {NULL, NULL};
    if ((rc = vc_commit_audit(h, &a, &none, 0)) != 0)
        goto out;
    if (versions)
        printf("trusted %s for service %s: PROXY protocol version %s, required from it from now on\n", source, service,
               versions_text(versions));
    else
        printf("no longer trusted: %s for service %s\n", source, service);
out:
    free(before);
    free(after);
    vh_audit_free(&a);
    return rc;
}

static const char list_sql[] =
    "SELECT service, source, versions, comment, created, json_object('service', service, 'source', source,"
    " 'versions', versions, 'comment', comment, 'created', created) FROM proxy_sources ORDER BY service, source";

static int list(const char *db, int json)
{
    vh_err e;
    sqlite3 *h = NULL;
    int rc = vc_open(db, &h);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = NULL;
    int r = vh_db_begin_read(h, &e);
    if (r == 0) {
        int s = sqlite3_prepare_v2(h, list_sql, sizeof list_sql, &st, NULL);
        long n = 0;
        if (json)
            printf("[");
        while (s == SQLITE_OK || s == SQLITE_ROW) {
            if ((s = sqlite3_step(st)) != SQLITE_ROW)
                break;
#define T(i) ((const char *)sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "")
            if (json) {
                printf("%s\n  %s", n ? "," : "", T(5));
            } else {
                if (!n)
                    printf("%-8s  %-40s  %-8s  %-20s  %s\n", "SERVICE", "SOURCE", "VERSIONS", "CREATED", "COMMENT");
                char c[4 * 256 + 8];
                printf("%-8s  %-40s  %-8s  %-20s  %s\n", T(0), T(1), versions_text(sqlite3_column_int(st, 2)), T(4),
                       vh_printable(T(3), c, sizeof c));
            }
#undef T
            n++;
        }
        if (json)
            printf("%s]\n", n ? "\n" : "");
        else if (s == SQLITE_DONE && !n)
            printf("no trusted PROXY sources: virtuald never reads a PROXY header\n");
        sqlite3_finalize(st);
        if (s != SQLITE_DONE)
            r = vh_db_fail(h, s, "listing the trusted PROXY sources", &e);
    }
    return vc_read_close(h, r, &e);
}

int vc_cmd_proxy_trust(const char *db, int argc, char **argv)
{
    struct arg_str *words =
        arg_strn(NULL, NULL, "add|remove|list [SOURCE]", 1, 2,
                 "add or remove SOURCE (an address or a prefix NET/LEN of the balancers), or list them all");
    struct arg_str *service = arg_str0("s", "service", "S",
                                       "the inetd service it may send headers for ('*', the "
                                       "default: every service)");
    struct arg_str *versions =
        arg_str0(NULL, "versions", "1|2|1,2", "add: the PROXY protocol versions it may send (default 1,2)");
    struct arg_str *comment = arg_str0(NULL, "comment", "TEXT", "add: free text shown by list");
    struct arg_lit *wide = arg_lit0(NULL, "wide",
                                    "add: allow a prefix shorter than /8 (IPv4) or /16 (IPv6), which trusts a large "
                                    "part of the Internet");
    struct arg_lit *json = arg_lit0(NULL, "json", "list: print a JSON array of objects");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {words, service, versions, comment, wide, json, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    const struct vc_cmd *cmd = vc_find("proxy-trust");
    int rc = vc_parse(cmd, table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    e.code = 0;
    const char *action = words->sval[0];
    int add = strcmp(action, "add") == 0, remove = strcmp(action, "remove") == 0, ls = strcmp(action, "list") == 0;
    if (!add && !remove && !ls)
        vh_fail(&e, VH_EX_USAGE, "proxy-trust takes add, remove or list, not '%s'", action);
    else if (ls && (words->count > 1 || service->count || versions->count || comment->count))
        vh_fail(&e, VH_EX_USAGE, "proxy-trust list takes no SOURCE and no --service, --versions or --comment");
    else if (!ls && words->count < 2)
        vh_fail(&e, VH_EX_USAGE, "proxy-trust %s needs SOURCE: the balancer's address or prefix", action);
    else if (!ls && json->count)
        vh_fail(&e, VH_EX_USAGE, "--json is for proxy-trust list");
    else if (remove && (versions->count || comment->count || wide->count))
        vh_fail(&e, VH_EX_USAGE, "proxy-trust remove takes SOURCE and --service only");
    if (e.code) {
        rc = vc_error(&e);
        fprintf(stderr, "Usage: vhostctl [--db FILE] %s\n", cmd->synopsis);
        goto out;
    }
    if (ls) {
        rc = list(db, json->count > 0);
        goto out;
    }
    char source[VH_ADDR_TEXT];
    const char *svc = service->count ? service->sval[0] : VH_SERVICE_ANY;
    int v = 3;
    if (vh_valid_service(svc, 1, &e) < 0 || source_canon(words->sval[1], source, &e) < 0 ||
        (add && wide_check(source, wide->count > 0, &e) < 0) ||
        (versions->count && parse_versions(versions->sval[0], &v, &e) < 0) ||
        (comment->count && vc_comment_valid(comment->sval[0], &e) < 0)) {
        rc = vc_error(&e);
        goto out;
    }
    rc = change(db, argc, argv, svc, source, add ? v : 0, comment->count ? comment->sval[0] : NULL);
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
