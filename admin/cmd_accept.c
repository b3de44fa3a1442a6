/* accept, unaccept: a finding of check that the operator has judged,
 * with the reason (accept.h). One row, one transaction. */
#include "vhostctl.h"

#include "accept.h"
#include "addr.h"
#include "audit.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "valid.h"

#include <pwd.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Who runs vhostctl: the real uid, and the name of the operator behind
 * sudo when root runs it through sudo, else the uid's name. */
static void who(uint32_t *uid, char *login, size_t n)
{
    uid_t u = getuid();
    *uid = (uint32_t)u;
    const char *sudo = getenv("SUDO_USER");
    if (u == 0 && sudo && *sudo && strlen(sudo) < n) {
        vh_printable(sudo, login, n);
        return;
    }
    struct passwd *pw = getpwuid(u);
    vh_printable(pw ? pw->pw_name : "", login, n);
}

/* One line of printable text, 1..max-1 bytes: the reason is shown by
 * every check --all. */
static int valid_text(const char *what, const char *s, size_t max, vh_err *e)
{
    size_t n = strlen(s);
    if (strspn(s, " ") == n)
        return vh_fail(e, VH_EX_DATAERR, "the %s is empty - say why the finding is accepted", what);
    if (n >= max)
        return vh_fail(e, VH_EX_DATAERR, "the %s is longer than %zu bytes", what, max - 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return vh_fail(e, VH_EX_DATAERR, "the %s holds a control character - one line of text", what);
    return 0;
}

/* The key of the acceptance from the command line: kind, scope,
 * subject, path. 0, or an exit status (the error printed). */
static int key_of(const struct arg_str *words, const struct arg_lit *domain, const struct arg_str *jail,
                  const struct arg_str *path, const char *synopsis, vh_accepted *a)
{
    vh_err e;
    if (domain->count == jail->count || words->count != (domain->count ? 3 : 1)) {
        fprintf(stderr,
                "vhostctl: give KIND and either --domain SERVICE ADDRESS or --jail DIR\nUsage: vhostctl [--db "
                "FILE] %s\n",
                synopsis);
        return VH_EX_USAGE;
    }
    const char *kind = words->sval[0];
    if (strlen(kind) >= sizeof a->kind || !*kind) {
        vh_fail(&e, VH_EX_DATAERR, "no finding has a kind that long - see vhostctl check");
        return vc_error(&e);
    }
    snprintf(a->kind, sizeof a->kind, "%s", kind);
    a->jail = jail->count > 0;
    if (a->jail) {
        if (vh_valid_root(jail->sval[0], &e) < 0)
            return vc_error(&e);
        snprintf(a->subject, sizeof a->subject, "%s", jail->sval[0]);
    } else {
        char addr[VH_KEY_TEXT];
        if (vh_valid_service(words->sval[1], 1, &e) < 0 || vh_key_canon(words->sval[2], 1, addr, &e) < 0)
            return vc_error(&e);
        vh_accept_domain_subject(words->sval[1], addr, a->subject, sizeof a->subject);
    }
    if (path->count) {
        const char *p = path->sval[0];
        if (p[0] != '/' || valid_text("path", p, sizeof a->path, &e) < 0) {
            if (p[0] != '/')
                vh_fail(&e, VH_EX_DATAERR, "--path takes the absolute path check prints for the finding");
            return vc_error(&e);
        }
        snprintf(a->path, sizeof a->path, "%s", p);
    }
    return 0;
}

static void describe(const vh_accepted *a, char *out, size_t n)
{
    char s[4 * PATH_MAX], p[4 * PATH_MAX];
    snprintf(out, n, "%s for %s %s%s%s", a->kind, a->jail ? "jail" : "domain", vh_printable(a->subject, s, sizeof s),
             a->path[0] ? " at " : "", vh_printable(a->path, p, sizeof p));
}

/* The acceptance a names as one JSON object (the history's before and
 * after), or NULL into *out when there is none. 0, or -1 with e. */
static int acc_json(sqlite3 *h, const vh_accepted *a, char **out, vh_err *e)
{
    static const char sql[] = "SELECT json_object('accepted', kind, 'scope', scope, 'subject', subject, 'path', path,"
                              " 'reason', reason, 'uid', uid, 'login', login, 'time', time) FROM accepted"
                              " WHERE kind = ?1 AND scope = ?2 AND subject = ?3 AND path = ?4";
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = sqlite3_prepare_v2(h, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(h, rc, "reading the acceptance", e);
    sqlite3_bind_text(st, 1, a->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->jail ? "jail" : "domain", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int result = 0;
    if (rc == SQLITE_ROW) {
        if (!(*out = strdup((const char *)sqlite3_column_text(st, 0))))
            result = vh_fail(e, VH_EX_OSERR, "out of memory");
    } else if (rc != SQLITE_DONE) {
        result = vh_db_fail(h, rc, "reading the acceptance", e);
    }
    sqlite3_finalize(st);
    return result;
}

static int run(const char *name, int accept, const char *db, int argc, char **argv)
{
    struct arg_str *words = arg_strn(NULL, NULL, "KIND [SERVICE ADDRESS]", 1, 3,
                                     "the finding's kind (as check prints it); SERVICE ADDRESS with --domain");
    struct arg_lit *domain = arg_lit0(NULL, "domain", "for the domain SERVICE ADDRESS (its row)");
    struct arg_str *jail = arg_str0(NULL, "jail", "DIR", "for the jail DIR: every domain served from it");
    struct arg_str *path =
        arg_str0(NULL, "path", "P", "only the finding at P (the path check prints), not every path of the subject");
    struct arg_str *reason = arg_str1(NULL, "reason", "TEXT", "why the finding is acceptable (required)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(10);
    /* unaccept takes no reason: its table leaves it out (freed apart) */
    void *table[8];
    int n = 0;
    table[n++] = words;
    table[n++] = domain;
    table[n++] = jail;
    table[n++] = path;
    if (accept)
        table[n++] = reason;
    table[n++] = help;
    table[n++] = dbo;
    table[n++] = end;
    const struct vc_cmd *cmd = vc_find(name);
    int rc = vc_parse(cmd, table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    vh_accepted *a = calloc(1, sizeof *a);
    if (!a) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto out;
    }
    if ((rc = key_of(words, domain, jail, path, cmd->synopsis, a)) != 0)
        goto done;
    if (accept) {
        /* before the database: the answers do not depend on it */
        if (vh_accept_check_kind(a->kind, &e) < 0 || valid_text("reason", reason->sval[0], sizeof a->reason, &e) < 0) {
            rc = vc_error(&e);
            goto done;
        }
        snprintf(a->reason, sizeof a->reason, "%s", reason->sval[0]);
        who(&a->uid, a->login, sizeof a->login);
    }
    /* the audit trail (audit.h): one history row, the acceptance before
     * and after as JSON, and one syslog line once committed */
    vh_audit au;
    if (vh_audit_start(&au, argc, argv, &e) < 0) {
        rc = vc_error(&e);
        goto done;
    }
    char *before = NULL, *after = NULL;
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto audit;
    int replaced = 0, r = vh_dbadmin_begin(h, &e);
    if (r == 0)
        r = acc_json(h, a, &before, &e);
    if (r == 0 && accept) {
        /* an acceptance names something that exists now; stale ones are
         * check's to report */
        char root[PATH_MAX], s[4 * PATH_MAX], p[4 * PATH_MAX];
        int there = vh_accept_subject_exists(h, a->jail, a->subject, root, sizeof root, &e);
        if (there == 0)
            there = vh_fail(&e, VH_EX_NOHOST,
                            a->jail ? "no domain is served from jail %s - see vhostctl list"
                                    : "no domain %s - see vhostctl list",
                            vh_printable(a->subject, s, sizeof s));
        /* a path outside the jail would never match: a typo, said now */
        else if (there > 0 && a->path[0] && !vh_accept_path_in(root, a->path))
            there = vh_fail(&e, VH_EX_DATAERR, "--path %s is not in the jail %s - give the path check prints",
                            vh_printable(a->path, p, sizeof p), vh_printable(root, s, sizeof s));
        r = there < 0 ? -1 : vh_accept_put(h, a, &replaced, &e);
    } else if (r == 0) {
        r = vh_accept_remove(h, a->kind, a->jail, a->subject, a->path, &e);
    }
    if (r == 0)
        r = acc_json(h, a, &after, &e);
    if (r == 0)
        r = vh_audit_summary(&au, before, after, &e);
    if (r < 0) {
        rc = vc_abort_close(h, &e);
        goto audit;
    }
    /* No domain row changed: the lookup index only learns the new state
     * of the file (in place, no key). */
    vh_ixwrite_key none = {NULL, NULL};
    if ((rc = vc_commit_audit(h, &au, &none, 0)) != 0)
        goto audit;
    char what[3 * 4 * PATH_MAX];
    describe(a, what, sizeof what);
    if (accept) {
        char why[4 * VH_ACCEPT_REASON_MAX];
        printf("%s %s: %s\n", replaced ? "accepted again (reason replaced)" : "accepted", what,
               vh_printable(a->reason, why, sizeof why));
    } else {
        printf("no longer accepted: %s\n", what);
    }
audit:
    free(before);
    free(after);
    vh_audit_free(&au);
done:
    free(a);
out:
    arg_freetable(table, (size_t)n);
    if (!accept)
        free(reason);
    return rc < 0 ? 0 : rc;
}

int vc_cmd_accept(const char *db, int argc, char **argv)
{
    return run("accept", 1, db, argc, argv);
}

int vc_cmd_unaccept(const char *db, int argc, char **argv)
{
    return run("unaccept", 0, db, argc, argv);
}
