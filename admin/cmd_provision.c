/* provision: build or complete a jail (provision.h), from programs,
 * packages, files and profiles (profile.h), record what it copied in
 * the database (the manifest, manifest.h), then check it the way
 * `check` would (jailcheck.h) and print what is still wrong.
 * provision --refresh: redo the recorded requests of a jail (or of every
 * jail with --all) and report which copies changed. */
#include "vhostctl.h"

#include "audit.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "ident.h"
#include "jailcheck.h"
#include "manifest.h"
#include "profile.h"
#include "provision.h"
#include "valid.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_USERS 16
#define MAX_PROFILES 16
#define MAX_LIST 1024 /* programs, packages, files, PAM services, after the profiles are added */

static void print_note(void *ctx, const char *what, const char *path)
{
    (void)ctx;
    if (strcmp(what, "unchanged") == 0)
        return;
    if (strcmp(what, "kept") == 0)
        printf("kept %s (the jail's own: provision writes a config file only where there is none)\n", path);
    else
        printf("%s %s\n", what, path);
}

/* ---- the manifest (issue 14 point 4) ---- */

/* What one provision run copied (its requests and files), and - for
 * --refresh, which prints its own report - the changes provision noted. */
struct run {
    vh_manifest now;
    int oom;
    int quiet;   /* collect the notes, do not print them */
    char **done; /* "created PATH" / "updated PATH" */
    size_t ndone, capdone;
};

static void run_note(void *ctx, const char *what, const char *path)
{
    struct run *r = ctx;
    if (!r->quiet) {
        print_note(NULL, what, path);
        return;
    }
    if (strcmp(what, "unchanged") == 0 || strcmp(what, "kept") == 0)
        return;
    if (r->ndone == r->capdone) {
        size_t cap = r->capdone ? 2 * r->capdone : 32;
        char **n = realloc(r->done, cap * sizeof *n);
        if (!n) {
            r->oom = 1;
            return;
        }
        r->done = n;
        r->capdone = cap;
    }
    size_t len = strlen(what) + strlen(path) + 2;
    char *line = malloc(len);
    if (!line) {
        r->oom = 1;
        return;
    }
    snprintf(line, len, "%s %s", what, path);
    r->done[r->ndone++] = line;
}

static void run_copied(void *ctx, const vh_prov_copied *c)
{
    struct run *r = ctx;
    char sha[VH_SHA256_HEX];
    vh_sha256_hex(c->data, c->len, sha);
    if (vh_manifest_add_file(&r->now, c->in, c->host, c->kind, c->source, sha, c->mode, c->len) < 0)
        r->oom = 1;
}

static void run_free(struct run *r)
{
    vh_manifest_free(&r->now);
    for (size_t i = 0; i < r->ndone; i++)
        free(r->done[i]);
    free(r->done);
}

/* Did provision write ROOT+in in this run? The note's verb, or NULL. */
static const char *run_wrote(const struct run *r, const char *root, const char *in)
{
    size_t rl = strlen(root);
    for (size_t i = 0; i < r->ndone; i++) {
        const char *sp = strchr(r->done[i], ' ');
        if (sp && strncmp(sp + 1, root, rl) == 0 && strcmp(sp + 1 + rl, in) == 0)
            return strncmp(r->done[i], "created", 7) == 0 ? "created" : "updated";
    }
    return NULL;
}

/* The history row and syslog line of a manifest change (audit.h): a
 * summary {"jail": ROOT, "files": N, "changed": N}. */
static int audit_summary(sqlite3 *h, vh_audit *au, const char *root, long files, long changed, vh_err *e)
{
    static const char sql[] = "SELECT json_object('jail', ?1, 'files', ?2, 'changed', ?3)";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql, sizeof sql, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(h, rc, "the history row", e);
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, files);
    sqlite3_bind_int64(st, 3, changed);
    int r = sqlite3_step(st) == SQLITE_ROW ? vh_audit_summary(au, NULL, (const char *)sqlite3_column_text(st, 0), e)
                                           : vh_db_fail(h, sqlite3_errcode(h), "the history row", e);
    sqlite3_finalize(st);
    return r;
}

/* In one transaction: the run's requests and files merged into root's
 * manifest (drop: files taken off it), the history row; committed.
 * Closes h. 0, or the exit status of the printed error. */
static int manifest_write(sqlite3 *h, const char *root, const struct run *r, const char *const *drop, size_t ndrop,
                          long changed, int argc, char **argv)
{
    vh_err e;
    vh_audit au;
    if (r->oom) {
        vh_fail(&e, VH_EX_OSERR, "out of memory: the manifest of %s is not recorded", root);
        return vc_abort_close(h, &e);
    }
    if (vh_audit_start(&au, argc, argv, &e) < 0)
        return vc_abort_close(h, &e);
    int rc;
    if (vh_dbadmin_begin(h, &e) < 0 || vh_manifest_store(h, root, &r->now, drop, ndrop, &e) < 0 ||
        audit_summary(h, &au, root, (long)r->now.n, changed, &e) < 0) {
        rc = vc_abort_close(h, &e);
    } else {
        /* no domain row changed: the lookup index learns the file's new
         * state in place (no key) */
        vh_ixwrite_key none = {NULL, NULL};
        rc = vc_commit_audit(h, &au, &none, 0);
    }
    vh_audit_free(&au);
    return rc;
}

/* Several --users: the jail is checked once per identity, and what is
 * the same for all (most findings) is printed once. */
struct once {
    struct vc_findings *f;
    uint64_t seen[1024];
    int n;
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h * 1099511628211u; /* a separator */
}

static void print_once(void *ctx, const vh_finding *fi)
{
    struct once *o = ctx;
    uint64_t h = fnv(fnv(fnv(14695981039346656037u, fi->kind), fi->path), fi->problem);
    for (int i = 0; i < o->n; i++)
        if (o->seen[i] == h)
            return;
    if (o->n < (int)(sizeof o->seen / sizeof o->seen[0]))
        o->seen[o->n++] = h;
    vc_print_finding(o->f, fi);
}

/* A list of strings from the command line and the profiles, each once. */
struct list {
    const char *v[MAX_LIST];
    int n;
};

static int list_add(struct list *l, const char *s, const char *what, vh_err *e)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 0;
    if (l->n == MAX_LIST)
        return vh_fail(e, VH_EX_USAGE, "more than %d %s", MAX_LIST, what);
    l->v[l->n++] = s;
    return 0;
}

static int list_profiles(const char *dir)
{
    vh_err e;
    char **names;
    int n = vh_profile_list(dir, &names, &e);
    if (n < 0)
        return vc_error(&e);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        vh_profile p;
        if (vh_profile_load(dir, names[i], &p, &e) < 0) {
            fprintf(stderr, "vhostctl: %s\n", e.msg);
            rc = e.code ? e.code : VH_EX_DATAERR;
        } else {
            printf("%-16s %s\n", names[i], p.description ? p.description : "");
            for (int k = 0; k < p.ninetd; k++)
                printf("%-16s   inetd: %s\n", "", p.inetd[k]);
        }
        vh_profile_free(&p);
        free(names[i]);
    }
    free(names);
    if (n == 0)
        printf("no profiles in %s\n", dir);
    return rc;
}

/* Owner names of a profile's dir: root, @user, @group (the first
 * --user's), or a host name. */
static int owner_id(const char *name, int is_group, const vh_row *users, int nusers, const char *prof, uint32_t *out,
                    vh_err *e)
{
    if (strcmp(name, "root") == 0) {
        *out = 0;
        return 0;
    }
    if (name[0] == '@') {
        if (!nusers || !users[0].has_user)
            return vh_fail(e, VH_EX_USAGE,
                           "profile %s makes a directory owned by the service's user (%s): give --user U", prof, name);
        *out = strcmp(name, "@user") == 0 ? users[0].uid : users[0].gid;
        return 0;
    }
    if (is_group) {
        struct group *g = getgrnam(name);
        if (!g)
            return vh_fail(e, VH_EX_NOUSER, "profile %s needs group %s on the host - addgroup --system %s", prof, name,
                           name);
        *out = (uint32_t)g->gr_gid;
    } else {
        struct passwd *pw = getpwnam(name);
        if (!pw)
            return vh_fail(e, VH_EX_NOUSER,
                           "profile %s needs user %s on the host - adduser --system --group --no-create-home %s", prof,
                           name, name);
        *out = (uint32_t)pw->pw_uid;
    }
    return 0;
}

/* ---- --refresh ---- */

struct report {
    const char *root;
    const struct run *run;
    long changed;
    const char **drop;
    size_t ndrop;
};

static void report_change(void *ctx, enum vh_manifest_change c, const vh_manifest_file *old,
                          const vh_manifest_file *now)
{
    struct report *rp = ctx;
    char p[4 * PATH_MAX], h[4 * PATH_MAX], src[4 * PATH_MAX], a[13], b[13];
    const vh_manifest_file *f = now ? now : old;
    char full[2 * PATH_MAX];
    snprintf(full, sizeof full, "%s%s", rp->root, f->path);
    vh_printable(full, p, sizeof p);
    vh_printable(f->host, h, sizeof h);
    vh_printable(f->source, src, sizeof src);
    switch (c) {
    case VH_MF_CHANGED:
        vh_manifest_short(old->sha, a);
        vh_manifest_short(now->sha, b);
        printf("refreshed %s: %s -> %s (from %s)\n", p, a, b, h);
        rp->changed++;
        break;
    case VH_MF_ADDED:
        vh_manifest_short(now->sha, b);
        printf("added %s: %s (from %s, needed by %s now)\n", p, b, h, src);
        rp->changed++;
        break;
    case VH_MF_SAME:
        if (run_wrote(rp->run, rp->root, now->path)) {
            vh_manifest_short(now->sha, b);
            printf("restored %s: %s (the jail's copy was missing or had been changed)\n", p, b);
            rp->changed++;
        }
        break;
    case VH_MF_DROPPED:
        printf("untracked %s: no request of the jail needs %s any more - left in the jail, no longer in its "
               "manifest (remove it when no service uses it)\n",
               p, h);
        rp->drop[rp->ndrop++] = old->path;
        rp->changed++;
        break;
    }
}

/* Redo jail root's recorded requests (old: its manifest) and report. 0,
 * or the exit status of the printed error. *changed: lines printed. */
static int refresh_one(const char *db, const char *root, vh_manifest *old, int argc, char **argv, long *changed)
{
    vh_err e;
    char shown[4 * PATH_MAX];
    vh_printable(root, shown, sizeof shown);
    *changed = 0;
    const char **progs = calloc(old->nr + 1, sizeof *progs), **files = calloc(old->nr + 1, sizeof *files);
    const char **pkgs = calloc(old->nr + 1, sizeof *pkgs), **pams = calloc(old->nr + 1, sizeof *pams);
    const char **drop = calloc(old->n + 1, sizeof *drop);
    int np = 0, nf = 0, nk = 0, nm = 0, gconv = 0, rc = 0;
    struct run run = {0};
    run.quiet = 1;
    if (!progs || !files || !pkgs || !pams || !drop) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto out;
    }
    for (size_t i = 0; i < old->nr; i++) {
        const vh_manifest_req *q = &old->r[i];
        if (strcmp(q->what, "program") == 0)
            progs[np++] = q->name;
        else if (strcmp(q->what, "file") == 0)
            files[nf++] = q->name;
        else if (strcmp(q->what, "package") == 0)
            pkgs[nk++] = q->name;
        else if (strcmp(q->what, "pam") == 0)
            pams[nm++] = q->name;
        else if (strcmp(q->what, "gconv") == 0)
            gconv = 1;
    }
    /* no request left (all forgotten): the run copies nothing, and every
     * file left in the manifest is reported untracked */
    vh_prov_more more = {files, nf, pkgs, nk, pams, nm, gconv, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    vh_provision p = {root, progs, np, NULL, 0, run_note, &run, 0, 0, &more, run_copied};
    if (vh_provision_run(&p, &e) < 0) {
        /* the plan checks every host file before anything is written: a
         * vanished one stops the jail here, unchanged */
        fprintf(stderr, "vhostctl: %s\n", e.msg);
        fprintf(stderr,
                "vhostctl: jail %s was not refreshed (above)%s - its copies stay as they were; put the host file "
                "back (apt-get install --reinstall PACKAGE; dpkg -S PATH names it), or, when the jail no longer "
                "needs it, take the request off its manifest: vhostctl provision %s --forget NAME\n",
                shown, e.code == VH_EX_NOINPUT ? ": a host file it was provisioned with is gone" : "", shown);
        rc = e.code ? e.code : VH_EX_SOFTWARE;
        goto out;
    }
    struct report rp = {root, &run, 0, drop, 0};
    vh_manifest_diff(old, &run.now, report_change, &rp);
    /* what else provision made again (a /dev node, a directory) */
    for (size_t i = 0; i < run.ndone; i++) {
        const char *sp = strchr(run.done[i], ' ');
        size_t rl = strlen(root);
        if (sp && strncmp(sp + 1, root, rl) == 0 && vh_manifest_find(&run.now, sp + 1 + rl))
            continue;
        char line[4 * PATH_MAX + 16];
        printf("%s\n", vh_printable(run.done[i], line, sizeof line));
        rp.changed++;
    }
    *changed = rp.changed;
    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto out;
    rc = manifest_write(h, root, &run, drop, rp.ndrop, rp.changed, argc, argv);
    if (rc == 0 && !rp.changed)
        printf("%s: up to date (%zu file%s as on the host)\n", shown, run.now.n, run.now.n == 1 ? "" : "s");
out:
    run_free(&run);
    free(progs);
    free(files);
    free(pkgs);
    free(pams);
    free(drop);
    return rc;
}

/* --refresh ROOT, or --refresh --all (root NULL). */
static int refresh(const char *db, const char *root, int argc, char **argv)
{
    vh_err e;
    sqlite3 *h = NULL;
    int rc = vc_open(db, &h);
    if (rc)
        return rc;
    char **jails = NULL;
    long nj = 0;
    vh_manifest *old = NULL;
    int r = vh_db_begin_read(h, &e);
    if (r == 0 && root) {
        if (!(jails = calloc(1, sizeof *jails)) || !(jails[0] = strdup(root)))
            r = vh_fail(&e, VH_EX_OSERR, "out of memory");
        else
            nj = 1;
    } else if (r == 0) {
        nj = vh_manifest_jails(h, &jails, &e);
        r = nj < 0 ? -1 : 0;
    }
    if (r == 0 && nj > 0 && !(old = calloc((size_t)nj, sizeof *old)))
        r = vh_fail(&e, VH_EX_OSERR, "out of memory");
    for (long i = 0; r == 0 && i < nj; i++) {
        int have = vh_manifest_load(h, jails[i], &old[i], &e);
        if (have < 0)
            r = -1;
        else if (have == 0) {
            char s[4 * PATH_MAX];
            r = vh_fail(&e, VH_EX_NOINPUT,
                        "jail %s has no manifest in %s - provision it with this database first (vhostctl --db %s "
                        "provision %s --program ...): provision records what it copies",
                        vh_printable(jails[i], s, sizeof s), db, db, s);
        }
    }
    rc = vc_read_close(h, r, &e);
    if (rc == 0 && nj == 0)
        printf("no jail has a manifest in %s: nothing to refresh (vhostctl provision records one)\n", db);
    long failed = 0, changed_jails = 0, changes = 0;
    int first = 0; /* the exit status of the first jail that failed */
    for (long i = 0; rc == 0 && i < nj; i++) {
        long changed = 0;
        int one = refresh_one(db, jails[i], &old[i], argc, argv, &changed);
        if (one) { /* the other jails are still refreshed: each is its own */
            failed++;
            first = first ? first : one;
            continue;
        }
        changes += changed;
        changed_jails += changed > 0;
    }
    if (rc == 0 && nj > 1)
        printf("refreshed %ld jails: %ld changed (%ld change%s), %ld up to date, %ld failed\n", nj, changed_jails,
               changes, changes == 1 ? "" : "s", nj - changed_jails - failed, failed);
    if (rc == 0 && failed)
        rc = first;
    for (long i = 0; i < nj; i++) {
        free(jails[i]);
        if (old)
            vh_manifest_free(&old[i]);
    }
    free(jails);
    free(old);
    return rc;
}

/* --forget NAME: the requests NAME of root's manifest (a program's or
 * file's path, a package, a PAM service, a profile) and the files they
 * brought leave the manifest; the jail keeps the files. */
static int forget(const char *db, const char *root, const char *const *names, int n, int argc, char **argv)
{
    vh_err e;
    sqlite3 *h = NULL;
    int rc = vc_open(db, &h);
    if (rc)
        return rc;
    vh_audit au;
    if (vh_audit_start(&au, argc, argv, &e) < 0)
        return vc_abort_close(h, &e);
    int r = vh_dbadmin_begin(h, &e);
    long files = 0;
    for (int i = 0; r == 0 && i < n; i++) {
        static const char fsql[] = "DELETE FROM jail_files WHERE jail = ?1 AND source IN (SELECT what || ' ' || name "
                                   "FROM jail_provisions WHERE jail = ?1 AND name = ?2)";
        static const char psql[] = "DELETE FROM jail_provisions WHERE jail = ?1 AND name = ?2";
        for (int k = 0; r == 0 && k < 2; k++) {
            sqlite3_stmt *st = NULL;
            int sr = sqlite3_prepare_v2(h, k ? psql : fsql, -1, &st, NULL);
            if (sr == SQLITE_OK) {
                sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, names[i], -1, SQLITE_STATIC);
                sr = sqlite3_step(st);
            }
            sqlite3_finalize(st);
            if (sr != SQLITE_DONE)
                r = vh_db_fail(h, sr, "forgetting a request", &e);
            else if (k == 0)
                files += sqlite3_changes(h);
            else if (sqlite3_changes(h) == 0) {
                char s1[4 * PATH_MAX], s2[4 * PATH_MAX];
                r = vh_fail(&e, VH_EX_NOINPUT,
                            "the manifest of %s has no request %s - vhostctl provision %s --manifest lists them",
                            vh_printable(root, s1, sizeof s1), vh_printable(names[i], s2, sizeof s2), s1);
            }
        }
    }
    if (r == 0)
        r = audit_summary(h, &au, root, -files, 0, &e);
    if (r < 0) {
        vh_audit_free(&au);
        return vc_abort_close(h, &e);
    }
    vh_ixwrite_key none = {NULL, NULL};
    rc = vc_commit_audit(h, &au, &none, 0);
    vh_audit_free(&au);
    if (rc == 0) {
        char s1[4 * PATH_MAX];
        printf("forgot %d request%s and %ld file%s of %s's manifest (the files stay in the jail)\n", n,
               n == 1 ? "" : "s", files, files == 1 ? "" : "s", vh_printable(root, s1, sizeof s1));
    }
    return rc;
}

/* --manifest: root's requests and files, one line each. */
static int show(const char *db, const char *root)
{
    vh_err e;
    sqlite3 *h = NULL;
    int rc = vc_open(db, &h);
    if (rc)
        return rc;
    vh_manifest m = {0};
    int r = vh_db_begin_read(h, &e);
    int have = r == 0 ? vh_manifest_load(h, root, &m, &e) : -1;
    rc = vc_read_close(h, have < 0 ? -1 : 0, &e);
    char s1[4 * PATH_MAX], s2[4 * PATH_MAX], s3[4 * PATH_MAX], sh[13];
    vh_printable(root, s1, sizeof s1);
    if (rc == 0 && have == 0) {
        fprintf(stderr, "vhostctl: jail %s has no manifest in %s - provision records one\n", s1, db);
        rc = VH_EX_NOINPUT;
    }
    for (size_t i = 0; rc == 0 && i < m.nr; i++)
        printf("request %s %s\n", m.r[i].what, vh_printable(m.r[i].name, s2, sizeof s2));
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
        vh_manifest_short(m.f[i].sha, sh);
        printf("file %s %s %04o %llu %s from %s (%s)\n", vh_printable(m.f[i].path, s2, sizeof s2), sh, m.f[i].mode,
               (unsigned long long)m.f[i].size, m.f[i].kind, vh_printable(m.f[i].host, s3, sizeof s3),
               vh_printable(m.f[i].source, s1, sizeof s1));
    }
    vh_manifest_free(&m);
    return rc;
}

int vc_cmd_provision(const char *db, int argc, char **argv)
{
    struct arg_str *root = arg_str0(NULL, NULL, "ROOT", "the jail directory (created root-owned 0755 when missing)");
    struct arg_str *program = arg_strn("p", "program", "PATH", 0, 64,
                                       "absolute host path of a program to install with its interpreter and libraries");
    struct arg_str *profile =
        arg_strn(NULL, "profile", "NAME", 0, MAX_PROFILES,
                 "install what profile NAME (or a profile file's path) names: programs, packages, files, PAM "
                 "services, users, directories, config skeletons; repeatable");
    struct arg_str *package =
        arg_strn(NULL, "package", "NAME", 0, 64,
                 "copy an installed Debian package's runtime files (dpkg -L NAME) with the libraries of its ELF files");
    struct arg_str *file = arg_strn(NULL, "file", "PATH", 0, 256,
                                    "copy one host file as it is (an ELF object: with its libraries); no secret "
                                    "(a file others cannot read) is ever copied");
    struct arg_str *pam = arg_strn(NULL, "pam", "SERVICE", 0, 16,
                                   "copy PAM service SERVICE's stack (/etc/pam.d, when the jail has none) and modules");
    struct arg_lit *gconv =
        arg_lit0(NULL, "gconv", "copy the gconv modules (iconv) even when no program imports iconv");
    struct arg_str *user =
        arg_strn("u", "user", "U", 0, MAX_USERS,
                 "a run-as user to merge (with its group) into the jail's /etc/passwd and /etc/group; repeatable");
    struct arg_str *group = arg_str0("g", "group", "G", "the group of a single --user (default: its primary group)");
    struct arg_str *pdir =
        arg_str0(NULL, "profile-dir", "DIR", "where --profile NAME is looked up (default " VH_PROFILE_DIR ")");
    struct arg_lit *list =
        arg_lit0(NULL, "list-profiles", "list the profiles (name, description, inetd line) and exit");
    struct arg_lit *refresh_o =
        arg_lit0(NULL, "refresh",
                 "copy again what changed on the host since ROOT was provisioned (after apt upgrade): its recorded "
                 "programs, packages and files with their libraries now; prints each change");
    struct arg_lit *all = arg_lit0(NULL, "all", "with --refresh: every jail with a manifest in the database");
    struct arg_str *forget_o =
        arg_strn(NULL, "forget", "NAME", 0, 64,
                 "take request NAME (a --program or --file path, a package, a PAM service, a profile) and the files "
                 "it brought off ROOT's manifest (the files stay in the jail)");
    struct arg_lit *manifest = arg_lit0(NULL, "manifest", "print ROOT's manifest: its requests and files");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo =
        arg_file0(NULL, "db", "FILE", "database path: where the manifest of what was copied is recorded");
    struct arg_end *end = arg_end(10);
    void *table[] = {root, program, profile,   package, file,     pam,      gconv, user, group,
                     pdir, list,    refresh_o, all,     forget_o, manifest, help,  dbo,  end};
    vh_row *users = NULL, *rows = NULL;
    vh_profile *profs = NULL;
    int nprofs = 0;
    struct list *progs = NULL, *pkgs = NULL, *files = NULL, *pams = NULL;
    vh_prov_account *accts = NULL;
    vh_prov_group *grps = NULL;
    vh_prov_dir *dirs = NULL;
    vh_prov_skel *skels = NULL;
    struct run run = {0};
    sqlite3 *h = NULL;
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("provision"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    const char *profdir = pdir->count ? pdir->sval[0] : VH_PROFILE_DIR;
    if (profdir[0] != '/') {
        vh_fail(&e, VH_EX_USAGE, "--profile-dir %s: give an absolute path", profdir);
        rc = vc_error(&e);
        goto out;
    }
    if (list->count) {
        if (root->count || program->count || profile->count || package->count || file->count || user->count) {
            vh_fail(&e, VH_EX_USAGE, "--list-profiles takes no ROOT and nothing to install (only --profile-dir)");
            rc = vc_error(&e);
        } else {
            rc = list_profiles(profdir);
        }
        goto out;
    }
    int installs = program->count || profile->count || package->count || file->count || pam->count || gconv->count ||
                   user->count || group->count;
    int modes = (refresh_o->count > 0) + (forget_o->count > 0) + (manifest->count > 0);
    if (modes > 1 || (modes && installs) || (all->count && (!refresh_o->count || root->count))) {
        vh_fail(&e, VH_EX_USAGE,
                "--refresh ROOT|--all, --forget NAME and --manifest are each used alone (with ROOT), without anything "
                "to install");
        rc = vc_error(&e);
        goto out;
    }
    if (modes && !root->count && !all->count) {
        vh_fail(&e, VH_EX_USAGE, "give the jail directory ROOT%s", refresh_o->count ? ", or --all" : "");
        rc = vc_error(&e);
        goto out;
    }
    if (root->count && vh_valid_root(root->sval[0], &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    if (refresh_o->count) {
        rc = refresh(db, root->count ? root->sval[0] : NULL, argc, argv);
        goto out;
    }
    if (forget_o->count) {
        rc = forget(db, root->sval[0], forget_o->sval, forget_o->count, argc, argv);
        goto out;
    }
    if (manifest->count) {
        rc = show(db, root->sval[0]);
        goto out;
    }
    if (!root->count) {
        vh_fail(&e, VH_EX_USAGE, "provision needs ROOT, the jail directory (or --list-profiles)");
        rc = vc_error(&e);
        goto out;
    }
    if (!program->count && !profile->count && !package->count && !file->count) {
        vh_fail(&e, VH_EX_USAGE,
                "nothing to provision: give --program, --package, --file or --profile "
                "(vhostctl provision --list-profiles)");
        rc = vc_error(&e);
        goto out;
    }
    vh_row row;
    memset(&row, 0, sizeof row);
    if (vh_valid_root(root->sval[0], &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    snprintf(row.root, sizeof row.root, "%s", root->sval[0]);
    if (group->count && user->count != 1) {
        vh_fail(&e, VH_EX_USAGE, "--group needs exactly one --user (several --users each get their primary group)");
        rc = vc_error(&e);
        goto out;
    }
    users = calloc((size_t)user->count + 1, sizeof *users);
    profs = calloc((size_t)profile->count + 1, sizeof *profs);
    progs = calloc(1, sizeof *progs);
    pkgs = calloc(1, sizeof *pkgs);
    files = calloc(1, sizeof *files);
    pams = calloc(1, sizeof *pams);
    if (!users || !profs || !progs || !pkgs || !files || !pams) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto out;
    }
    for (int i = 0; i < user->count; i++) {
        snprintf(users[i].root, sizeof users[i].root, "%s", row.root);
        if (vh_ident_resolve(user->sval[i], group->count ? group->sval[0] : NULL, &users[i], &e) < 0) {
            rc = vc_error(&e);
            goto out;
        }
    }
    int naccts = 0, ngrps = 0, ndirs = 0, nskels = 0, want_gconv = gconv->count > 0;
    for (int i = 0; i < program->count; i++)
        if (list_add(progs, program->sval[i], "programs", &e) < 0)
            goto fail;
    for (int i = 0; i < package->count; i++)
        if (list_add(pkgs, package->sval[i], "packages", &e) < 0)
            goto fail;
    for (int i = 0; i < file->count; i++)
        if (list_add(files, file->sval[i], "files", &e) < 0)
            goto fail;
    for (int i = 0; i < pam->count; i++)
        if (list_add(pams, pam->sval[i], "PAM services", &e) < 0)
            goto fail;
    /* The profiles, loaded (and trusted) whole before anything is done. */
    int tusers = 0, tgroups = 0, tdirs = 0, tskels = 0;
    for (int i = 0; i < profile->count; i++, nprofs++) {
        if (vh_profile_load(profdir, profile->sval[i], &profs[i], &e) < 0) {
            nprofs++;
            goto fail;
        }
        tusers += profs[i].nusers;
        tgroups += profs[i].ngroups + profs[i].nusers;
        tdirs += profs[i].ndirs;
        tskels += profs[i].nskels;
    }
    accts = calloc((size_t)tusers + 1, sizeof *accts);
    grps = calloc((size_t)tgroups + 1, sizeof *grps);
    dirs = calloc((size_t)tdirs + 1, sizeof *dirs);
    skels = calloc((size_t)tskels + 1, sizeof *skels);
    if (!accts || !grps || !dirs || !skels) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        goto fail;
    }
    /* The identities a profile names are the host's (STYLE: resolve on
     * the host, never trust the jail's files); copied into the jail's
     * /etc/passwd and /etc/group by the merge of point 1. */
    rows = calloc((size_t)tusers + 1, sizeof *rows);
    if (!rows) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        goto fail;
    }
    int nrows = 0;
    for (int i = 0; i < nprofs; i++) {
        vh_profile *pr = &profs[i];
        for (int k = 0; k < pr->nprograms; k++)
            if (list_add(progs, pr->programs[k], "programs", &e) < 0)
                goto fail;
        for (int k = 0; k < pr->npackages; k++)
            if (list_add(pkgs, pr->packages[k], "packages", &e) < 0)
                goto fail;
        for (int k = 0; k < pr->nfiles; k++)
            if (list_add(files, pr->files[k], "files", &e) < 0)
                goto fail;
        for (int k = 0; k < pr->npam; k++)
            if (list_add(pams, pr->pam[k], "PAM services", &e) < 0)
                goto fail;
        want_gconv |= pr->gconv;
        for (int k = 0; k < pr->nusers; k++) {
            uint32_t uid;
            if (owner_id(pr->users[k].name, 0, NULL, 0, pr->name, &uid, &e) < 0)
                goto fail;
            vh_row *r = &rows[nrows++];
            memset(r, 0, sizeof *r);
            if (vh_ident_resolve(pr->users[k].name, NULL, r, &e) < 0)
                goto fail;
            accts[naccts++] =
                (vh_prov_account){r->user, r->group, r->uid, r->gid, pr->users[k].home, pr->users[k].shell};
        }
        for (int k = 0; k < pr->ngroups; k++) {
            uint32_t gid;
            if (owner_id(pr->groups[k], 1, NULL, 0, pr->name, &gid, &e) < 0)
                goto fail;
            grps[ngrps++] = (vh_prov_group){pr->groups[k], gid};
        }
        for (int k = 0; k < pr->ndirs; k++) {
            vh_prov_dir *d = &dirs[ndirs++];
            d->path = pr->dirs[k].path;
            d->mode = pr->dirs[k].mode;
            if (owner_id(pr->dirs[k].owner, 0, users, user->count, pr->name, &d->uid, &e) < 0 ||
                owner_id(pr->dirs[k].group, 1, users, user->count, pr->name, &d->gid, &e) < 0)
                goto fail;
        }
        for (int k = 0; k < pr->nskels; k++)
            skels[nskels++] = (vh_prov_skel){pr->skels[k].path, pr->skels[k].mode, pr->skels[k].data, pr->skels[k].len};
    }
    vh_prov_more more = {files->v, files->n, pkgs->v, pkgs->n, pams->v, pams->n, want_gconv, accts,
                         naccts,   grps,     ngrps,   dirs,    ndirs,   skels,   nskels};
    /* The manifest goes to the database: opened (its schema checked)
     * before anything is written, recorded once the copy succeeded. No
     * database at all: provision works, with a warning (below). */
    int nodb = access(db, F_OK) < 0 && errno == ENOENT;
    if (!nodb && (rc = vc_open(db, &h)) != 0)
        goto out;
    vh_provision p = {row.root, progs->v, progs->n, users, user->count,          run_note,
                      &run,     0,        0,        &more, h ? run_copied : NULL};
    if (vh_provision_run(&p, &e) < 0)
        goto fail;
    printf("provisioned %s: %d change%s, %d file%s already in place\n", row.root, p.written, p.written == 1 ? "" : "s",
           p.unchanged, p.unchanged == 1 ? "" : "s");
    if (h) {
        int oom = 0;
        for (int i = 0; i < progs->n; i++)
            oom |= vh_manifest_add_req(&run.now, "program", progs->v[i]);
        for (int i = 0; i < pkgs->n; i++)
            oom |= vh_manifest_add_req(&run.now, "package", pkgs->v[i]);
        for (int i = 0; i < files->n; i++)
            oom |= vh_manifest_add_req(&run.now, "file", files->v[i]);
        for (int i = 0; i < pams->n; i++)
            oom |= vh_manifest_add_req(&run.now, "pam", pams->v[i]);
        if (want_gconv)
            oom |= vh_manifest_add_req(&run.now, "gconv", "");
        for (int i = 0; i < profile->count; i++)
            oom |= vh_manifest_add_req(&run.now, "profile", profile->sval[i]);
        run.oom |= oom != 0;
        sqlite3 *w = h;
        h = NULL; /* closed by manifest_write */
        if ((rc = manifest_write(w, row.root, &run, NULL, 0, p.written, argc, argv)) != 0)
            goto out;
        printf("recorded the manifest of %s: %zu file%s (vhostctl provision %s --manifest)\n", row.root, run.now.n,
               run.now.n == 1 ? "" : "s", row.root);
    } else {
        fprintf(stderr,
                "vhostctl: warning: no database %s: what provision copied into %s is not recorded, so vhostctl check "
                "cannot see stale copies and provision --refresh cannot update them - run vhostctl init, then this "
                "provision again\n",
                db, row.root);
    }
    for (int i = 0; i < nprofs; i++) {
        for (int k = 0; k < profs[i].ninetd; k++)
            printf("profile %s: start it with (inetd.conf): %s\n", profs[i].name, profs[i].inetd[k]);
        for (int k = 0; k < profs[i].nsyslog; k++)
            printf("profile %s: the service logs to %s%s in the jail (not created: a socket there is a way out of the "
                   "jail; give it one on purpose with your syslog daemon, and vhostctl accept socket)\n",
                   profs[i].name, row.root, profs[i].syslog[k]);
        for (int k = 0; k < profs[i].nnotes; k++)
            printf("profile %s: %s\n", profs[i].name, profs[i].notes[k]);
    }

    /* What check would say about this jail with these programs, for
     * each run-as identity (a root service when there is none). */
    struct vc_findings f = {0};
    f.out = stderr;
    struct once *o = calloc(1, sizeof *o);
    if (!o) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        goto fail;
    }
    o->f = &f;
    for (int i = 0; i < (user->count ? user->count : 1); i++) {
        vh_jailcheck jc = {row.root, user->count ? &users[i] : &row, progs->v, progs->n, 0, 1, 0, 0};
        vh_jailcheck_run(&jc, print_once, o);
    }
    free(o);
    if (f.errors) {
        fprintf(stderr, "vhostctl: jail %s still has %ld error%s (above) that provision does not fix\n", row.root,
                f.errors, f.errors == 1 ? "" : "s");
        rc = VH_EX_CHECK_ERRORS;
    }
    goto out;
fail:
    rc = vc_error(&e);
out:
    if (h)
        vh_db_close(h, NULL);
    run_free(&run);
    for (int i = 0; i < nprofs; i++)
        vh_profile_free(&profs[i]);
    free(profs);
    free(users);
    free(rows);
    free(progs);
    free(pkgs);
    free(files);
    free(pams);
    free(accts);
    free(grps);
    free(dirs);
    free(skels);
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
