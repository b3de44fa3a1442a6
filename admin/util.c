#include "vhostctl.h"

#include "addr.h"
#include "db.h"
#include "dbadmin.h"
#include "ident.h"
#include "jailcheck.h"
#include "exitcodes.h"
#include "nest.h"
#include "jail.h"
#include "path.h"
#include "valid.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vc_parse(const struct vc_cmd *cmd, void **table, int n, int argc, char **argv, const char **db)
{
    if (arg_nullcheck(table) != 0) {
        fprintf(stderr, "vhostctl: out of memory\n");
        return VH_EX_OSERR;
    }
    struct arg_lit *help = table[n - 3];
    struct arg_file *dbopt = table[n - 2];
    struct arg_end *end = table[n - 1];
    int nerr = arg_parse(argc, argv, table);
    if (help->count) {
        printf("Usage: vhostctl [--db FILE] %s\n%s\n\n", cmd->synopsis, cmd->summary);
        arg_print_glossary(stdout, table, "  %-22s %s\n");
        return -1;
    }
    if (nerr) {
        arg_print_errors(stderr, end, argv[0]);
        fprintf(stderr, "Usage: vhostctl [--db FILE] %s\n", cmd->synopsis);
        return VH_EX_USAGE;
    }
    if (dbopt->count)
        *db = dbopt->filename[0];
    return 0;
}

int vc_error(const vh_err *e)
{
    fprintf(stderr, "vhostctl: %s\n", e->msg);
    return e->code ? e->code : VH_EX_SOFTWARE;
}

int vc_open(const char *db, sqlite3 **out)
{
    vh_err e;
    if (vh_dbadmin_open(db, 0, out, &e) < 0)
        return vc_error(&e);
    return 0;
}

static void index_warning(const char *path, const vh_err *e)
{
    fprintf(stderr,
            "vhostctl: warning: the lookup index %s%s was not brought up to date: %s - virtuald reads the database "
            "until the next change or vhostctl init (correct, slower)\n",
            path, VH_IX_SUFFIX, e->msg);
}

void vc_index(const char *path)
{
    vh_err e;
    if (vh_ixwrite_rebuild(path, &e) < 0)
        index_warning(path, &e);
}

int vc_abort_close(sqlite3 *h, const vh_err *e)
{
    vh_db_rollback(h);
    vh_db_close(h, NULL);
    return vc_error(e);
}

int vc_read_close(sqlite3 *h, int r, vh_err *e)
{
    if (r < 0)
        return vc_abort_close(h, e);
    vh_db_rollback(h);
    if (vh_db_close(h, e) < 0)
        return vc_error(e);
    return 0;
}

int vc_commit_close(sqlite3 *h, const vh_ixwrite_key *keys, int nkeys)
{
    vh_err e;
    char path[PATH_MAX];
    const char *file = sqlite3_db_filename(h, "main");
    snprintf(path, sizeof path, "%s", file ? file : "");
    /* still inside the change's transaction: the index is marked stale
     * before the change can commit */
    vh_ixwrite_txn txn;
    if (vh_ixwrite_begin(h, path, &txn, &e) < 0 || vh_dbadmin_commit(h, &e) < 0)
        return vc_abort_close(h, &e);
    if (vh_ixwrite_finish(h, path, &txn, keys, nkeys, &e) < 0)
        index_warning(path, &e);
    if (vh_db_close(h, &e) < 0)
        return vc_error(&e);
    return 0;
}

int vc_commit_audit(sqlite3 *h, vh_audit *a, const vh_ixwrite_key *keys, int nkeys)
{
    vh_err e;
    if (vh_audit_write(a, h, &e) < 0)
        return vc_abort_close(h, &e);
    int rc = vc_commit_close(h, keys, nkeys);
    if (rc == 0)
        vh_audit_log(a);
    return rc;
}

int vc_jail_admit(const vh_row *row, int force, const char *verb, long *errors)
{
    char label[VH_SERVICE_MAX + VH_KEY_TEXT + 2];
    vc_domain_label(row, label, sizeof label);
    struct vc_findings f = {0};
    f.out = stderr;
    vh_jailcheck jc = {label, row, NULL, 0, 1, 1, 0, 0};
    vh_jailcheck_run(&jc, vc_print_finding, &f);
    *errors = f.errors;
    if (f.errors && !force) {
        char root[4 * PATH_MAX + 8];
        fprintf(stderr, "vhostctl: jail %s has %ld error%s (above) - fix them, or %s anyway with --force\n",
                vh_printable(row->root, root, sizeof root), f.errors, f.errors == 1 ? "" : "s", verb);
        return VH_EX_OSFILE;
    }
    return 0;
}

int vc_nest_admit(sqlite3 *h, const char *db, const char *root, int force, const char *verb, long *found)
{
    vh_err e;
    struct vc_findings f = {0};
    f.out = stderr;
    long nested = vc_nest(h, db, root, &f, &e);
    if (nested < 0)
        return vc_error(&e);
    *found = nested;
    if (nested > 0 && !force) {
        char shown[4 * PATH_MAX + 8];
        fprintf(stderr, "vhostctl: jail %s would nest (above) - move it, or %s anyway with --force\n",
                vh_printable(root, shown, sizeof shown), verb);
        return VH_EX_OSFILE;
    }
    return 0;
}

void vc_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void vc_finding_json_open(struct vc_findings *s, const vh_finding *f)
{
    printf("%s\n  {\"domain\": ", s->shown++ ? "," : "");
    vc_json_string(stdout, f->domain);
    printf(", \"severity\": \"%s\", \"kind\": ", vh_finding_severity_name(f->severity));
    vc_json_string(stdout, f->kind);
    printf(", \"path\": ");
    vc_json_string(stdout, f->path);
    printf(", \"problem\": ");
    vc_json_string(stdout, f->problem);
    printf(", \"fix\": ");
    vc_json_string(stdout, f->fix);
}

void vc_print_finding(void *ctx, const vh_finding *f)
{
    struct vc_findings *s = ctx;
    if (f->severity == VH_SEV_ERROR)
        s->errors++;
    else
        s->warnings++;
    if (s->json) {
        vc_finding_json_open(s, f);
        printf("}");
        return;
    }
    s->shown++;
    fprintf(s->out ? s->out : stdout, "%s: %s [%s] %s: %s - fix: %s\n", f->domain,
            vh_finding_severity_name(f->severity), f->kind, f->path, f->problem, f->fix);
}

void vc_domain_label(const vh_row *r, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", r->service, r->address);
}

struct nest_ctx {
    struct vc_findings *f; /* NULL: count only */
    const char *only;      /* NULL, or the root a finding must involve */
    long n;
};

static void nest_finding(void *ctx, const char *outer, const char *inner, const char *dbfile)
{
    struct nest_ctx *nc = ctx;
    if (nc->only && strcmp(nc->only, outer) != 0 && (!inner || strcmp(nc->only, inner) != 0))
        return;
    nc->n++;
    if (!nc->f)
        return;
    char o[4 * PATH_MAX + 8], i[4 * PATH_MAX + 8], problem[9 * PATH_MAX + 256], fix[5 * PATH_MAX + 256];
    vh_printable(outer, o, sizeof o);
    vh_printable(inner ? inner : dbfile, i, sizeof i);
    if (inner) {
        snprintf(problem, sizeof problem,
                 "jail %s is inside the jail %s of another domain: a root service there can replace it with its own", i,
                 o);
        snprintf(fix, sizeof fix,
                 "move %s out of %s (jails side by side below one 0700 root directory) and point "
                 "its domains at the new place (vhostctl set SERVICE ADDRESS --root NEW)",
                 i, o);
    } else {
        snprintf(problem, sizeof problem,
                 "the database is inside the jail %s: a root service there can rewrite it, its journal and its "
                 "lookup index",
                 o);
        snprintf(fix, sizeof fix, "move the database out of every jail (vhostctl --db, VIRTUALD_DB)");
    }
    vh_finding f = {"jails", VH_SEV_ERROR, inner ? "nested-jail" : "database-in-jail", i, problem, fix};
    vc_print_finding(nc->f, &f);
}

/* sql/008: a base and a jail, one inside the other (nest.h). */
static void nest_base_finding(void *ctx, const char *base, const char *jail, int jail_holds_base)
{
    struct nest_ctx *nc = ctx;
    if (nc->only && strcmp(nc->only, base) != 0 && strcmp(nc->only, jail) != 0)
        return;
    nc->n++;
    if (!nc->f)
        return;
    char b[4 * PATH_MAX + 8], j[4 * PATH_MAX + 8], problem[9 * PATH_MAX + 256], fix[9 * PATH_MAX + 256];
    vh_printable(base, b, sizeof b);
    vh_printable(jail, j, sizeof j);
    if (jail_holds_base) {
        snprintf(problem, sizeof problem,
                 "base %s is %s the jail %s: a root service there can change the programs of every domain the base "
                 "serves",
                 b, strcmp(base, jail) == 0 ? "" : "inside", j);
        snprintf(fix, sizeof fix,
                 "keep bases apart from every jail (e.g. /srv/base next to /srv/jails) and point "
                 "their domains at it (vhostctl set SERVICE ADDRESS --base DIR)");
    } else {
        snprintf(problem, sizeof problem,
                 "jail %s is inside the base %s: its root service could change the base every domain of it runs", j, b);
        snprintf(fix, sizeof fix, "move %s out of %s (vhostctl set SERVICE ADDRESS --root NEW)", j, b);
    }
    vh_finding f = {"jails", VH_SEV_ERROR, jail_holds_base ? "base-in-jail" : "jail-in-base", jail_holds_base ? b : j,
                    problem, fix};
    vc_print_finding(nc->f, &f);
}

long vc_nest_base(sqlite3 *h, const char *base, struct vc_findings *f, vh_err *e)
{
    struct nest_ctx nc = {f, NULL, 0};
    if (vh_nest_base(h, base, nest_base_finding, &nc, e) < 0)
        return -1;
    return nc.n;
}

int vc_db_abspath(const char *db, char *out, size_t n)
{
    char dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", db);
    snprintf(base, sizeof base, "%s", db);
    if (!realpath(dirname(dir), real))
        return -1;
    const char *b = basename(base);
    snprintf(out, n, "%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", b);
    return 0;
}

long vc_nest(sqlite3 *h, const char *db, const char *only, struct vc_findings *f, vh_err *e)
{
    /* an empty table nests nothing: the first bulk import reads it once */
    sqlite3_stmt *st = NULL;
    static const char any_sql[] = "SELECT 1 FROM domains LIMIT 1";
    if (sqlite3_prepare_v2(h, any_sql, (int)sizeof any_sql, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return 0;
    }
    char abs[PATH_MAX + NAME_MAX + 2];
    const char *dbfile = vc_db_abspath(db, abs, sizeof abs) == 0 ? abs : NULL;
    struct nest_ctx nc = {f, only, 0};
    if ((only ? vh_nest_one(h, only, dbfile, nest_finding, &nc, e) : vh_nest_scan(h, dbfile, nest_finding, &nc, e)) < 0)
        return -1;
    /* sql/008: jails and bases, one inside the other */
    if ((only ? vh_nest_root_bases(h, only, nest_base_finding, &nc, e)
              : vh_nest_bases_scan(h, nest_base_finding, &nc, e)) < 0)
        return -1;
    return nc.n;
}

int vc_nest_refuse(sqlite3 *h, const char *db, long before, vh_err *e)
{
    struct vc_findings f = {0};
    f.out = stderr;
    long after = vc_nest(h, db, NULL, NULL, e);
    if (after < 0)
        return -1;
    if (after <= before)
        return 0;
    vc_nest(h, db, NULL, &f, e);
    return vh_fail(e, VH_EX_OSFILE,
                   "the new domains would put %ld jail%s inside another jail or the database inside a jail "
                   "(THREATS K8, above) - move them apart",
                   after - before, after - before == 1 ? "" : "s");
}

/* ---- issue 13 point 6: messages ---- */

int vc_order_hint(const char *cmd, const char *service, const char *address, const char *root, vh_err *e)
{
    char canon[VH_KEY_TEXT], a[512], r[512], sv[256];
    vh_err ignored;
    int addr_is_path = address[0] == '/';
    int root_is_addr = root[0] != '/' && vh_key_canon(root, 1, canon, &ignored) >= 0;
    if (!addr_is_path && !root_is_addr)
        return 0;
    vh_printable(address, a, sizeof a);
    vh_printable(root, r, sizeof r);
    vh_printable(service, sv, sizeof sv);
    if (addr_is_path && root_is_addr)
        return vh_fail(e, VH_EX_USAGE,
                       "ADDRESS '%s' is a path and ROOT '%s' an address: the order is SERVICE ADDRESS ROOT - vhostctl "
                       "%s %s %s %s",
                       a, r, cmd, sv, r, a);
    if (addr_is_path)
        return vh_fail(e, VH_EX_USAGE,
                       "ADDRESS '%s' is a path: the order is SERVICE ADDRESS ROOT (the address first, then the jail "
                       "directory)",
                       a);
    return vh_fail(e, VH_EX_USAGE,
                   "ROOT '%s' is an address, not a jail directory: the order is SERVICE ADDRESS ROOT (the address "
                   "first, then the jail directory)",
                   r);
}

int vc_need_root(vh_err *e)
{
    uid_t uid = geteuid();
    if (uid == 0)
        return 0;
    return vh_fail(e, VH_EX_NOPERM,
                   "run as root: vhostctl reads and changes the root-owned database and looks into the jails (it runs "
                   "as uid %u) - sudo vhostctl ...",
                   (unsigned)uid);
}

/* ---- issue 13, point 2: rows whose root is no jail ------------------- */

/* One word as a shell reads it back: as it is when it holds only safe
 * bytes, else in single quotes. */
static size_t shell_word(const char *w, char *out, size_t n)
{
    int plain = *w != '\0';
    for (const char *p = w; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=./:,@%", *p))
            plain = 0;
    if (plain)
        return (size_t)snprintf(out, n, "%s", w);
    size_t o = (size_t)snprintf(out, n, "'");
    for (const char *p = w; *p && o < n; p++) {
        char c[2] = {(unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, 0};
        o += (size_t)snprintf(out + o, n - o, "%s", *p == '\'' ? "'\\''" : c);
    }
    if (o < n)
        o += (size_t)snprintf(out + o, n - o, "'");
    return o;
}

void vc_command_with(const char *db, int argc, char **argv, const char *extra, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "vhostctl");
    if (o < n && strcmp(db, VH_DB_DEFAULT_PATH) != 0) {
        o += (size_t)snprintf(out + o, n - o, " --db ");
        if (o < n)
            o += shell_word(db, out + o, n - o);
    }
    /* argv[0] is "vhostctl COMMAND" (main.c) */
    const char *name = strchr(argv[0], ' ');
    if (o < n)
        o += (size_t)snprintf(out + o, n - o, " %s", name ? name + 1 : argv[0]);
    for (int i = 1; i < argc && o < n; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--db=", 5) == 0)
            continue;
        o += (size_t)snprintf(out + o, n - o, " ");
        if (o < n)
            o += shell_word(argv[i], out + o, n - o);
    }
    if (o < n)
        snprintf(out + o, n - o, " %s", extra);
}

int vc_no_jail(sqlite3 *h, const char *db, const char *root, char *why, size_t n, vh_err *e)
{
    char abs[PATH_MAX + NAME_MAX + 2];
    const char *dbfile = vc_db_abspath(db, abs, sizeof abs) == 0 ? abs : NULL;
    if (h)
        return vh_nest_no_jail(h, NULL, root, dbfile, why, n, e);
    /* without the database: "/" and the database's directories only */
    if (strcmp(root, "/") == 0) {
        snprintf(why, n, "it is the host's root directory");
        return 1;
    }
    if (dbfile && vh_nest_below(root, dbfile)) {
        snprintf(why, n, "it holds the database %s", dbfile);
        return 1;
    }
    return 0;
}

int vc_unjailed_stale(sqlite3 *h, const char *db, const char *root, char *why, size_t n, vh_err *e)
{
    int nj = vc_no_jail(h, db, root, why, n, e);
    if (nj < 0)
        return -1;
    if (nj == 0)
        snprintf(why, n, "%s holds neither the database nor another domain's jail any more", root);
    return nj == 0;
}

int vc_rejudge_unjailed(sqlite3 *h, const char *db, vh_err *e)
{
    /* the partial index domains_unjailed: no scan of the table */
    static const char sel[] = "SELECT service, address, root FROM domains WHERE unjailed = 1";
    static const char upd[] = "UPDATE domains SET unjailed = 0, updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                              " WHERE service = ?1 AND address = ?2";
    sqlite3_stmt *st = NULL, *up = NULL;
    int rc = sqlite3_prepare_v2(h, sel, sizeof sel, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(h, upd, sizeof upd, &up, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return vh_db_fail(h, rc, "re-judging the unjailed domains", e);
    }
    int cleared = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *svc = (const char *)sqlite3_column_text(st, 0);
        const char *adr = (const char *)sqlite3_column_text(st, 1);
        const char *root = (const char *)sqlite3_column_text(st, 2);
        char why[PATH_MAX + 128];
        int stale = vc_unjailed_stale(h, db, root ? root : "", why, sizeof why, e);
        if (stale < 0) {
            cleared = -1;
            break;
        }
        if (!stale)
            continue;
        sqlite3_reset(up);
        sqlite3_bind_text(up, 1, svc, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(up, 2, adr, -1, SQLITE_TRANSIENT);
        if ((rc = sqlite3_step(up)) != SQLITE_DONE) {
            cleared = vh_db_fail(h, rc, "taking off an unjailed mark", e);
            break;
        }
        char shown[4 * PATH_MAX + 8], w[4 * sizeof why];
        fprintf(stderr,
                "vhostctl: warning: %s %s: its root %s is a jail now (%s): its unjailed mark is taken off - "
                "virtuald judges it as a jail from now on (THREATS K7; vhostctl check shows what it finds)\n",
                svc, adr, vh_printable(root, shown, sizeof shown), vh_printable(why, w, sizeof w));
        cleared++;
    }
    if (cleared >= 0 && rc != SQLITE_DONE)
        cleared = vh_db_fail(h, rc, "re-judging the unjailed domains", e);
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    return cleared;
}

int vc_comment_valid(const char *c, vh_err *e)
{
    size_t n = strlen(c);
    if (n >= VH_COMMENT_MAX)
        return vh_fail(e, VH_EX_DATAERR, "comment is longer than %d bytes - shorten it", VH_COMMENT_MAX - 1);
    /* UTF-8 without control characters: list, lookup and the history
     * print it as JSON and on terminals */
    const unsigned char *p = (const unsigned char *)c;
    for (size_t i = 0; i < n;) {
        unsigned char b = p[i];
        size_t len = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
        int ok = len > 0 && i + len <= n && !(b < 0x20 || b == 0x7f);
        uint32_t cp = len == 1 ? b : len == 2 ? b & 0x1f : len == 3 ? b & 0x0f : b & 0x07;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* no overlong forms, no surrogates, nothing past U+10FFFF, no C1 controls */
        if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                   (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (cp >= 0x80 && cp < 0xa0)))
            ok = 0;
        if (!ok)
            return vh_fail(e, VH_EX_DATAERR, "comment holds %s at byte %zu - give printable UTF-8 text",
                           b < 0x20 || b == 0x7f ? "a control character" : "bytes that are not UTF-8", i + 1);
        i += len;
    }
    return 0;
}

int vc_bulk_identity(const char *user, const char *group, vh_row *ident, vh_err *e)
{
    memset(ident, 0, sizeof *ident);
    if (group && !user)
        return vh_fail(e, VH_EX_USAGE,
                       "--group needs --user: a root service runs with gid 0 and no supplementary groups");
    return user ? vh_ident_resolve(user, group, ident, e) : 0;
}

/* ---- sql/008: the base ---- */

int vc_base_admit(const vh_row *row, int force, const char *verb, long *errors)
{
    *errors = 0;
    if (!row->base[0])
        return 0;
    char b[4 * PATH_MAX + 8];
    vh_printable(row->base, b, sizeof b);
    if (row->unjailed == 1 || strcmp(row->root, "/") == 0 || strcmp(row->base, "/") == 0) {
        fprintf(stderr,
                "vhostctl: a base is for a jail: %s %s %s - give the domain a jail of its own (vhostctl provision) "
                "or no base (--base none)\n",
                row->service, row->address,
                strcmp(row->base, "/") == 0 ? "cannot have / (the host itself) as its base"
                                            : "runs on the host's file system (unjailed or a root of /)");
        return VH_EX_USAGE;
    }
    if (strcmp(row->base, row->root) == 0) {
        fprintf(stderr, "vhostctl: %s is the domain's jail itself - a base is another directory, shared by jails\n", b);
        return VH_EX_USAGE;
    }
    /* The base by the jail's rules: the path checker virtuald runs, the
     * deep scan (set-uid files, devices, what the run-as user could
     * change), with the domain's identity - a base writable by its
     * run-as user would let the service change its own programs. */
    vh_row br = *row;
    snprintf(br.root, sizeof br.root, "%s", row->base);
    br.base[0] = '\0';
    char label[VH_SERVICE_MAX + VH_KEY_TEXT + 8];
    snprintf(label, sizeof label, "%s/%s:base", row->service, row->address);
    struct vc_findings f = {0};
    f.out = stderr;
    vh_jailcheck jc = {label, &br, NULL, 0, 0, 1, 0, 1};
    vh_jailcheck_run(&jc, vc_print_finding, &f);
    *errors = f.errors;
    if (f.errors && !force) {
        fprintf(stderr, "vhostctl: base %s has %ld error%s (above) - fix them, or %s anyway with --force\n", b,
                f.errors, f.errors == 1 ? "" : "s", verb);
        return VH_EX_OSFILE;
    }
    return 0;
}

int vc_base_mountpoints(const vh_row *row, vh_err *e)
{
    if (!row->base[0])
        return 0;
    vh_jail j;
    /* both opened by the path checker virtuald runs: descriptors to the
     * very directories checked, nothing resolved by name below them */
    if (vh_jail_open(row, &j, e) < 0)
        return -1;
    static const char *const dirs[VH_BASE_NDIRS] = VH_BASE_DIRS;
    int rc = 0, provided = 0;
    for (int i = 0; i < VH_BASE_NDIRS && rc == 0; i++) {
        struct stat st;
        int bfd = openat(j.basefd, dirs[i], O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
        if (bfd < 0 && errno == ENOENT)
            continue;
        if (bfd < 0 || fstat(bfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
            rc = vh_fail(e, VH_EX_OSFILE,
                         "base %s: %s is a symlink or no directory - a base's code directories (bin, sbin, lib, "
                         "lib32, lib64, libx32, usr) must be directories; rebuild it with vhostctl provision",
                         row->base, dirs[i]);
            if (bfd >= 0)
                close(bfd);
            break;
        }
        close(bfd);
        provided++;
        /* The mount point, relative to the jail's descriptor: made when
         * missing, never through a symlink (K9) */
        if (fstatat(j.fd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) {
                rc = vh_fail(e, VH_EX_OSFILE, "jail %s: cannot look at %s: %s", row->root, dirs[i], strerror(errno));
                break;
            }
            errno = 0;
            if (mkdirat(j.fd, dirs[i], 0755) < 0 && errno != EEXIST) {
                rc = vh_fail(e, VH_EX_CANTCREAT, "jail %s: cannot make the mount point %s for base %s: %s", row->root,
                             dirs[i], row->base, strerror(errno));
                break;
            }
            int dfd = openat(j.fd, dirs[i], O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
            if (dfd < 0 || fstat(dfd, &st) < 0 || !S_ISDIR(st.st_mode) || fchown(dfd, 0, 0) < 0 ||
                fchmod(dfd, 0755) < 0) {
                rc = vh_fail(e, VH_EX_CANTCREAT, "jail %s: the mount point %s for base %s: %s", row->root, dirs[i],
                             row->base, errno ? strerror(errno) : "not a directory");
                if (dfd >= 0)
                    close(dfd);
                break;
            }
            close(dfd);
            printf("made %s/%s (root, 0755): the mount point of base %s/%s\n", row->root, dirs[i], row->base, dirs[i]);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc = vh_fail(e, VH_EX_OSFILE,
                         "jail %s: %s is %s, where base %s/%s is bound - the jail needs a directory there: remove it "
                         "(the base provides that directory) and set the base again",
                         row->root, dirs[i], S_ISLNK(st.st_mode) ? "a symlink" : "no directory", row->base, dirs[i]);
            break;
        }
    }
    if (rc == 0 && provided == 0)
        rc = vh_fail(e, VH_EX_OSFILE,
                     "base %s has none of bin, sbin, lib, lib32, lib64, libx32, usr - build it with vhostctl "
                     "provision %s --program ... first",
                     row->base, row->base);
    vh_jail_close(&j);
    return rc;
}

int vc_base_option(const char *text, vh_row *row, vh_err *e)
{
    if (strcmp(text, "none") == 0) {
        row->base[0] = '\0';
        return 0;
    }
    if (vh_valid_root(text, e) < 0)
        return -1;
    if (strcmp(text, "/") == 0)
        return vh_fail(e, VH_EX_USAGE,
                       "--base / would bind the host's own directories: give a base built by "
                       "vhostctl provision, or none");
    snprintf(row->base, sizeof row->base, "%s", text);
    return 0;
}

int vc_base_nest_admit(sqlite3 *h, const char *base, int force, const char *verb, long *found)
{
    vh_err e;
    struct vc_findings f = {0};
    f.out = stderr;
    long n = vc_nest_base(h, base, &f, &e);
    if (n < 0)
        return vc_error(&e);
    *found += n;
    if (n > 0 && !force) {
        char shown[4 * PATH_MAX + 8];
        fprintf(stderr, "vhostctl: base %s would nest with a jail (above) - move it, or %s anyway with --force\n",
                vh_printable(base, shown, sizeof shown), verb);
        return VH_EX_OSFILE;
    }
    return 0;
}
