#include "vhostctl.h"

#include "db.h"
#include "exitcodes.h"
#include "row.h"
#include "store.h"
#include "valid.h"

#include <string.h>

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
    grow(&w->w[2], r->root);
    grow(&w->w[3], user_of(r));
    grow(&w->w[4], group_of(r));
    w->rows++;
    return 0;
}

static int print_row(void *ctx, const vh_row *r)
{
    struct widths *w = ctx;
    char root[4 * PATH_MAX], comment[4 * VH_COMMENT_MAX];
    printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-8s  %7u  %-8s  %s\n", w->w[0], r->service, w->w[1], r->address, w->w[2],
           vh_printable(r->root, root, sizeof root), w->w[3], user_of(r), w->w[4], group_of(r), net_bind_of(r),
           (unsigned)r->max_procs,
           /* sql/003: an unjailed row says so where the eye reads its state */
           r->unjailed  ? (r->enabled ? "enabled,unjailed" : "disabled,unjailed")
           : r->enabled ? "enabled"
                        : "disabled",
           vh_printable(r->comment, comment, sizeof comment));
    return 0;
}

struct json_state {
    long n;
};

static int print_json(void *ctx, const char *text)
{
    struct json_state *s = ctx;
    printf("%s\n  %s", s->n++ ? "," : "", text);
    return 0;
}

int vc_cmd_list(const char *db, int argc, char **argv)
{
    struct arg_str *service = arg_str0("s", "service", "SERVICE", "only this service's rows");
    struct arg_lit *json = arg_lit0(NULL, "json", "print a JSON array of objects");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {service, json, help, dbo, end};
    int rc = vc_parse(vc_find("list"), table, 5, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    const char *svc = service->count ? service->sval[0] : NULL;
    if (svc && vh_valid_service(svc, 1, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto out;
    /* One read transaction: both passes see the same rows. */
    int r = vh_db_begin_read(h, &e);
    if (r == 0 && json->count) {
        struct json_state s = {0};
        printf("[");
        r = vh_store_each_json(h, svc, print_json, &s, &e);
        printf("%s]\n", s.n ? "\n" : "");
    } else if (r == 0) {
        struct widths w = {{7, 7, 4, 4, 5}, 0};
        r = vh_store_each(h, svc, measure, &w, &e);
        if (r == 0) {
            printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-8s  %7s  %-8s  %s\n", w.w[0], "SERVICE", w.w[1], "ADDRESS", w.w[2],
                   "ROOT", w.w[3], "USER", w.w[4], "GROUP", "NET_BIND", "PROCS", "STATE", "COMMENT");
            r = vh_store_each(h, svc, print_row, &w, &e);
        }
    }
    vh_db_rollback(h);
    if (r < 0) {
        vh_db_close(h, NULL);
        rc = vc_error(&e);
        goto out;
    }
    if (vh_db_close(h, &e) < 0)
        rc = vc_error(&e);
out:
    arg_freetable(table, 5);
    return rc < 0 ? 0 : rc;
}
