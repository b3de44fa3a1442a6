#include "vhostctl.h"

#include "addr.h"
#include "db.h"
#include "exitcodes.h"
#include "paths.h"
#include "row.h"
#include "running.h"
#include "select.h"
#include "slots.h"
#include "store.h"
#include "valid.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Column widths come from a first pass over the rows, the table from a
 * second: two reads, constant memory at any number of rows. */
struct widths {
    int w[5];
    long rows;
};

static const char *user_of(const vh_row *r)
{
    return r->has_user ? r->user : "(root)";
}

static const char *group_of(const vh_row *r)
{
    return r->has_user ? r->group : "-";
}

/* NET_BIND: "yes"/"no" for a root service; a run-as service has no
 * capabilities at all, so the setting does not apply ("-"). */
static const char *net_bind_of(const vh_row *r)
{
    return r->has_user ? "-" : r->net_bind_service ? "yes" : "no";
}

/* ROOT: the jail, and its base (sql/008) when it has one, printable. */
static const char *root_of(const vh_row *r, char *out, size_t n)
{
    char root[4 * PATH_MAX], base[4 * PATH_MAX];
    vh_printable(r->root, root, sizeof root);
    if (r->base[0])
        snprintf(out, n, "%s [base %s]", root, vh_printable(r->base, base, sizeof base));
    else
        snprintf(out, n, "%s", root);
    return out;
}

static void grow(int *w, const char *s)
{
    int n = (int)strlen(s);
    if (n > *w)
        *w = n;
}

static int measure(void *ctx, const vh_row *r)
{
    struct widths *w = ctx;
    grow(&w->w[0], r->service);
    grow(&w->w[1], r->address);
    char root[8 * PATH_MAX + 16];
    grow(&w->w[2], root_of(r, root, sizeof root));
    grow(&w->w[3], user_of(r));
    grow(&w->w[4], group_of(r));
    w->rows++;
    return 0;
}

static int print_row(void *ctx, const vh_row *r)
{
    struct widths *w = ctx;
    char root[8 * PATH_MAX + 16], comment[4 * VH_COMMENT_MAX];
    char lim[48];
    vc_conn_limits_text(r, lim, sizeof lim);
    printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-8s  %7u  %-14s  %-8s  %s\n", w->w[0], r->service, w->w[1], r->address,
           w->w[2], root_of(r, root, sizeof root), w->w[3], user_of(r), w->w[4], group_of(r), net_bind_of(r),
           (unsigned)r->max_procs, lim,
           /* sql/003: an unjailed row says so where the eye reads its state */
           r->unjailed  ? (r->enabled ? "enabled,unjailed" : "disabled,unjailed")
           : r->enabled ? "enabled"
                        : "disabled",
           vh_printable(r->comment, comment, sizeof comment));
    return 0;
}

/* The rows list shows: --service's own (all without it), then with
 * --effective the '*' rows that serve that service too, each through
 * the filters on its own columns. */
struct sel {
    const char *service; /* --service, or NULL */
    const char *address; /* canonical, or NULL */
    const char *root;
    const char *user; /* a name, a uid, or "root" for root services */
    int effective;
    char (*own)[VH_KEY_TEXT]; /* --effective: the service's own addresses, sorted */
    size_t nown, capown;
    int oom;
    /* the pass in progress */
    int json;
    int live; /* --live (issue 16) */
    vh_row_cb row_cb;
    void *row_ctx;
    long n; /* JSON objects printed */
};

static int by_addr(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int collect_own(void *ctx, const vh_row *r)
{
    struct sel *s = ctx;
    if (s->nown == s->capown) {
        size_t cap = s->capown ? s->capown * 2 : 16;
        char(*n)[VH_KEY_TEXT] = realloc(s->own, cap * sizeof *n);
        if (!n) {
            s->oom = 1;
            return 1;
        }
        s->own = n;
        s->capown = cap;
    }
    snprintf(s->own[s->nown++], VH_KEY_TEXT, "%s", r->address);
    return 0;
}

static int wanted(const struct sel *s, const vh_row *r)
{
    if (s->address && strcmp(r->address, s->address) != 0)
        return 0;
    if (s->root && strcmp(r->root, s->root) != 0)
        return 0;
    if (s->user) {
        if (strcmp(s->user, "root") == 0)
            return !r->has_user;
        if (!r->has_user)
            return 0;
        char *end;
        unsigned long uid = strtoul(s->user, &end, 10);
        int numeric = *s->user && *end == '\0';
        return strcmp(r->user, s->user) == 0 || (numeric && uid == r->uid);
    }
    return 1;
}

/* The selection rule by which r serves --service: its own row on an
 * address, a prefix or the default; a '*' row only where the service has
 * no row of its own on that key (PRODUCT §3, fleet.md 3.3), else 0. */
static int rule_of(const struct sel *s, const vh_row *r)
{
    int dflt = strcmp(r->address, "default") == 0, prefix = strchr(r->address, '/') != NULL;
    if (!s->service || strcmp(r->service, s->service) == 0)
        return dflt ? VH_RULE_DEFAULT : prefix ? VH_RULE_PREFIX : VH_RULE_EXACT;
    if (s->nown && bsearch(r->address, s->own, s->nown, sizeof *s->own, by_addr))
        return 0;
    return dflt ? VH_RULE_ANY_DEFAULT : prefix ? VH_RULE_PREFIX_ANY : VH_RULE_ANY_SERVICE;
}

/* Issue 16, --live: the slots a limited row's connections hold now,
 * read from outside with F_OFD_GETLK on the domain's running file (no
 * file: nothing runs, nothing is held). */
static int print_live(struct sel *s, const vh_row *r)
{
    if (!r->max_instances && !r->max_per_source)
        return 0;
    char name[256], path[sizeof VH_RUNNING_DIR + 256];
    vh_err e;
    uint32_t inst = 0, src = 0;
    vh_limit l = {r->max_instances, r->max_per_source, r->source_prefix4, r->source_prefix6};
    if (vh_running_name(r->service, r->address, name, sizeof name, &e) == 0) {
        snprintf(path, sizeof path, "%s/%s", VH_RUNNING_DIR, name);
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd >= 0) {
            if (vh_limits_held(fd, &l, &inst, &src, &e) < 0)
                fprintf(stderr, "vhostctl: %s %s: %s\n", r->service, r->address, e.msg);
            close(fd);
        }
    }
    if (s->json) {
        printf("%s\n  {\"service\": ", s->n++ ? "," : "");
        vc_json_string(stdout, r->service);
        printf(", \"address\": ");
        vc_json_string(stdout, r->address);
        printf(", \"max_instances\": %u, \"instances_held\": %u, \"max_per_source\": %u, \"source_prefix4\": %u, "
               "\"source_prefix6\": %u, \"source_slots_held\": %u}",
               (unsigned)r->max_instances, (unsigned)inst, (unsigned)r->max_per_source, r->source_prefix4,
               r->source_prefix6, (unsigned)src);
    } else {
        char lim[48], held[32];
        vc_conn_limits_text(r, lim, sizeof lim);
        if (r->max_instances)
            snprintf(held, sizeof held, "%u/%u", (unsigned)inst, (unsigned)r->max_instances);
        else
            snprintf(held, sizeof held, "%u", (unsigned)inst);
        printf("%-10s  %-24s  %-14s  %9s  %u\n", r->service, r->address, lim, held, (unsigned)src);
    }
    return 0;
}

static int visit(void *ctx, const vh_row *r, const char *text)
{
    struct sel *s = ctx;
    int rule = rule_of(s, r);
    if (!rule || !wanted(s, r))
        return 0;
    if (s->live)
        return print_live(s, r);
    if (!s->json || !text)
        return s->row_cb(s->row_ctx, r);
    /* json_object()'s text ends with its closing brace */
    size_t len = strlen(text);
    printf("%s\n  ", s->n++ ? "," : "");
    if (s->effective && len > 1 && text[len - 1] == '}')
        printf("%.*s,\"rule\":\"%s\"}", (int)(len - 1), text, vh_select_rule_name(rule));
    else
        printf("%s", text);
    return 0;
}

static int visit_row(void *ctx, const vh_row *r)
{
    return visit(ctx, r, NULL);
}

/* One pass over the selected rows (the service's, then the '*' rows
 * that serve it), in the caller's read transaction. */
static int pass(sqlite3 *h, struct sel *s, vh_err *e)
{
    int r = s->json ? vh_store_each_both(h, s->service, visit, s, e) : vh_store_each(h, s->service, visit_row, s, e);
    if (r == 0 && s->effective && strcmp(s->service, VH_SERVICE_ANY) != 0)
        r = s->json ? vh_store_each_both(h, VH_SERVICE_ANY, visit, s, e)
                    : vh_store_each(h, VH_SERVICE_ANY, visit_row, s, e);
    return r;
}

struct print_ctx {
    struct widths *w;
    struct sel *s;
};

/* --effective: the RULE column first */
static int print_effective(void *ctx, const vh_row *r)
{
    struct print_ctx *p = ctx;
    printf("%-19s  ", vh_select_rule_name(rule_of(p->s, r)));
    return print_row(p->w, r);
}

int vc_cmd_list(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str0("s", "service", "SERVICE", "only this service's rows");
    struct arg_str *address =
        arg_str0(NULL, "address", "ADDRESS",
                 "only the rows of this key: an address, a prefix NET/LEN, 'default', a name or a wildcard");
    struct arg_str *root = arg_str0(NULL, "root", "DIR", "only the rows served from jail DIR");
    struct arg_str *user =
        arg_str0(NULL, "user", "USER", "only the rows run as USER (name or uid; 'root': the root services)");
    struct arg_lit *effective = arg_lit0(NULL, "effective",
                                         "with --service: also the '*' rows that serve it (where it has no row of its "
                                         "own), each with the selection rule");
    struct arg_lit *live =
        arg_lit0(NULL, "live", "the slots the rows with limits hold now (instances held, source slots held)");
    struct arg_lit *json = arg_lit0(NULL, "json", "print a JSON array of objects");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {service, address, root, user, effective, live, json, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("list"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    struct sel s = {0};
    char addr[VH_KEY_TEXT];
    s.service = service->count ? service->sval[0] : NULL;
    s.effective = effective->count > 0;
    s.json = json->count > 0;
    s.live = live->count > 0;
    if (s.effective && !s.service) {
        fprintf(stderr, "vhostctl: --effective needs --service SERVICE\nUsage: vhostctl [--db FILE] %s\n",
                vc_find("list")->synopsis);
        rc = VH_EX_USAGE;
        goto out;
    }
    if ((s.service && vh_valid_service(s.service, 1, &e) < 0) ||
        (address->count && vh_key_canon(address->sval[0], 1, addr, &e) < 0) ||
        (root->count && vh_valid_root(root->sval[0], &e) < 0)) {
        rc = vc_error(&e);
        goto out;
    }
    s.address = address->count ? addr : NULL;
    s.root = root->count ? root->sval[0] : NULL;
    s.user = user->count ? user->sval[0] : NULL;
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto out;
    /* One read transaction: every pass sees the same rows. */
    int r = vh_db_begin_read(h, &e);
    if (r == 0 && s.effective) {
        r = vh_store_each(h, s.service, collect_own, &s, &e);
        if (r == 0 && s.oom)
            r = vh_fail(&e, VH_EX_OSERR, "out of memory");
        if (s.nown > 1)
            qsort(s.own, s.nown, sizeof *s.own, by_addr);
    }
    if (r == 0 && s.live) {
        if (s.json)
            printf("[");
        else
            printf("%-10s  %-24s  %-14s  %9s  %s\n", "SERVICE", "ADDRESS", "LIMITS", "INSTANCES", "SOURCE_SLOTS");
        r = pass(h, &s, &e);
        if (s.json)
            printf("%s]\n", s.n ? "\n" : "");
    } else if (r == 0 && s.json) {
        printf("[");
        r = pass(h, &s, &e);
        printf("%s]\n", s.n ? "\n" : "");
    } else if (r == 0) {
        struct widths w = {{7, 7, 4, 4, 5}, 0};
        s.row_cb = measure;
        s.row_ctx = &w;
        r = pass(h, &s, &e);
        if (r == 0) {
            if (s.effective)
                printf("%-19s  ", "RULE");
            printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-8s  %7s  %-14s  %-8s  %s\n", w.w[0], "SERVICE", w.w[1], "ADDRESS",
                   w.w[2], "ROOT", w.w[3], "USER", w.w[4], "GROUP", "NET_BIND", "PROCS", "LIMITS", "STATE", "COMMENT");
            struct print_ctx pc = {&w, &s};
            s.row_cb = s.effective ? print_effective : print_row;
            s.row_ctx = s.effective ? (void *)&pc : (void *)&w;
            r = pass(h, &s, &e);
        }
    }
    free(s.own);
    rc = vc_read_close(h, r, &e);
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
