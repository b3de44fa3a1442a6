/* migrate-inetd: one command moves a legacy installation. Every legacy
 * virtuald line of an inetd.conf is found, its CONF imported under the
 * line's service name (all in one transaction), and the inetd.conf is
 * converted to the new virtuald's arguments. */
#include "vhostctl.h"

#include "atomic.h"
#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "fleet.h"
#include "fd.h"
#include "import.h"
#include "inetd.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INETD_CONF_MAX (16 * 1024 * 1024)

struct job {
    unsigned long line;
    char service[VH_SERVICE_MAX + 1];
    char conf[PATH_MAX];
    vh_import_stats st;
};

struct found {
    const char *file; /* printable name of the inetd.conf */
    struct job *jobs;
    size_t n, cap;
    unsigned long errors;
};

static void inetd_diag(void *ctx, unsigned long line, int severity, const char *msg)
{
    struct found *f = ctx;
    fprintf(stderr, "%s:%lu: %s: %s\n", f->file, line, severity == VH_INETD_ERROR ? "error" : "warning", msg);
}

/* Collect the legacy lines; one service must come from one CONF. */
static int on_entry(void *ctx, const vh_inetd_entry *en, vh_err *e)
{
    struct found *f = ctx;
    if (en->form != VH_INETD_LEGACY)
        return 0;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->jobs[i].service, en->service) != 0)
            continue;
        if (strcmp(f->jobs[i].conf, en->conf) == 0)
            return 0; /* the same file again (tcp and tcp6 lines): import it once */
        char a[4 * PATH_MAX + 8], b[4 * PATH_MAX + 8];
        fprintf(stderr,
                "%s:%lu: error: service %s is also run by line %lu with the configuration %s, not %s - virtuald keys "
                "domains on service and address: merge the two files into one and point both lines at it\n",
                f->file, en->line, en->service, f->jobs[i].line, vh_printable(f->jobs[i].conf, a, sizeof a),
                vh_printable(en->conf, b, sizeof b));
        f->errors++;
        return 0;
    }
    if (f->n == f->cap) {
        size_t ncap = f->cap ? 2 * f->cap : 8;
        struct job *j = realloc(f->jobs, ncap * sizeof *j);
        if (!j)
            return vh_fail(e, VH_EX_OSERR, "out of memory");
        f->jobs = j;
        f->cap = ncap;
    }
    struct job *j = &f->jobs[f->n++];
    j->line = en->line;
    snprintf(j->service, sizeof j->service, "%s", en->service);
    snprintf(j->conf, sizeof j->conf, "%s", en->conf);
    return 0;
}

static int read_all(const char *path, const char *shown, char **out, size_t *len, struct stat *sb, vh_err *e)
{
    *out = NULL;
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below
     * (THREATS K11), as is anything else that is not a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return vh_fail(e, VH_EX_NOINPUT, "cannot open %s: %s", shown, strerror(errno));
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, sb) < 0) {
        vh_fail(e, VH_EX_NOINPUT, "cannot stat %s: %s", shown, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(sb->st_mode)) {
        vh_fail(e, VH_EX_NOINPUT, "%s is a directory - give the inetd.conf file", shown);
        goto fail;
    }
    if (!S_ISREG(sb->st_mode)) {
        vh_fail(e, VH_EX_NOINPUT, "%s is not a regular file (%s) - give the inetd.conf file", shown,
                vh_fd_type_name(sb->st_mode));
        goto fail;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        vh_fail(e, VH_EX_NOINPUT, "cannot read %s: %s", shown, strerror(errno));
        goto fail;
    }
    buf = malloc(INETD_CONF_MAX + 1);
    if (!buf) {
        vh_fail(e, VH_EX_OSERR, "out of memory");
        goto fail;
    }
    ssize_t r = vh_fd_read_full(fd, buf, INETD_CONF_MAX + 1);
    if (r < 0) {
        vh_fail(e, VH_EX_IOERR, "cannot read %s: %s", shown, strerror(errno));
        goto fail;
    }
    n = (size_t)r;
    if (n > INETD_CONF_MAX) {
        vh_fail(e, VH_EX_DATAERR, "%s is larger than %d MiB: not an inetd.conf", shown, INETD_CONF_MAX >> 20);
        goto fail;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}

/* Replace path by data atomically: a temporary file in the same
 * directory, with like's owner and mode, synced, renamed over path, and
 * the directory synced, so that a crash leaves the old or the new file. */
static int write_atomic(const char *path, const char *data, size_t len, const struct stat *like, vh_err *e)
{
    char tmp[PATH_MAX + 32], base[NAME_MAX + 1], shown[4 * PATH_MAX + 8];
    vh_printable(path, shown, sizeof shown);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.vhostctl-XXXXXX", path) >= sizeof tmp)
        return vh_fail(e, VH_EX_CANTCREAT, "path %s is too long", shown);
    int dfd = vh_atomic_dir_of(path, base, sizeof base);
    vh_atomic a;
    vh_atomic_init(&a, dfd);
    char tbase[NAME_MAX + 1];
    int made = dfd >= 0;
    if (made && (size_t)snprintf(tbase, sizeof tbase, "%s.vhostctl-XXXXXX", base) >= sizeof tbase) {
        errno = ENAMETOOLONG;
        made = 0;
    }
    if (made)
        made = vh_atomic_open(&a, tbase, O_RDWR) == 0;
    if (!made) {
        vh_fail(e, VH_EX_CANTCREAT, "cannot create a temporary file next to %s: %s", shown, strerror(errno));
        goto fail;
    }
    /* the name made, for messages: path's directory and a.tmp */
    snprintf(tmp + strlen(path) - strlen(base), sizeof tmp - (strlen(path) - strlen(base)), "%s", a.tmp);
    if (vh_fd_write_full(a.fd, data, len) < 0) {
        vh_fail(e, VH_EX_IOERR, "writing %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (fchown(a.fd, like->st_uid, like->st_gid) < 0 || fchmod(a.fd, like->st_mode & 07777) < 0) {
        vh_fail(e, VH_EX_CANTCREAT, "setting owner and mode of %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (vh_atomic_commit(&a, base, 0) < 0) {
        if (a.step == VH_ATOMIC_RENAME)
            vh_fail(e, VH_EX_CANTCREAT, "renaming %s to %s: %s", tmp, shown, strerror(errno));
        else
            vh_fail(e, VH_EX_IOERR, "%s %s: %s", a.step == VH_ATOMIC_SYNC ? "syncing" : "closing", tmp,
                    strerror(errno));
        goto fail;
    }
    close(dfd);
    return 0;
fail:
    vh_atomic_abort(&a);
    if (dfd >= 0)
        close(dfd);
    return -1;
}

/* Issue 13, point 1: the program the converted lines run. It must be
 * the new virtuald, where inetd (as root) will find it: an absolute path
 * to a regular, executable file called virtuald that passes the
 * database's trust rule (every component root's, not writable by group
 * or others, no symlink: path.h) - whoever could replace it would run
 * as root for every connection. 0 or -1 with e. */
static int virtuald_ok(const char *path, int given, vh_err *e)
{
    char sh[4 * PATH_MAX + 8];
    vh_printable(path, sh, sizeof sh);
    const char *opt = given ? "--virtuald" : "the installed virtuald";
    if (vh_inetd_word_ok(opt, path, e) < 0)
        return -1;
    const char *base = strrchr(path, '/') + 1;
    if (strcmp(base, "virtuald") != 0)
        return vh_fail(e, VH_EX_USAGE,
                       "%s %s: the file must be called virtuald (migrate-inetd finds the lines it converted by "
                       "that name) - give the path of the installed virtuald",
                       opt, sh);
    struct stat st;
    vh_err sub;
    if (vh_path_trust(path, VH_WANT_FILE, VH_EX_USAGE, NULL, &st, &sub) < 0)
        return vh_fail(e, VH_EX_USAGE, "%s %s is not trusted to run as root for inetd: %s%s", opt, sh, sub.msg,
                       given ? "" : " - install virtuald (cmake --install), or give --virtuald PATH");
    if (!(st.st_mode & S_IXUSR))
        return vh_fail(e, VH_EX_USAGE, "%s %s is not executable - chmod 0755 %s", opt, sh, sh);
    return 0;
}

static int to_stream(void *ctx, const char *p, size_t n)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

int vc_cmd_migrate(const char *db, int argc, char **argv)
{
    struct arg_file *conf = arg_file1(NULL, NULL, "INETD_CONF", "the inetd.conf that runs the legacy virtuald");
    struct arg_lit *write =
        arg_lit0("w", "write", "replace INETD_CONF by the converted file (atomically), keeping INETD_CONF.bak");
    struct arg_lit *dry = arg_lit0("n", "dry-run", "import nothing, write nothing: report what would be done");
    struct arg_str *vpath = arg_str0(NULL, "virtuald", "PATH",
                                     "the virtuald the converted lines run (default " VH_VIRTUALD_INSTALL_PATH ")");
    struct arg_str *user = arg_str0("u", "user", "U",
                                    "run every imported domain as this host user (default: root, as the legacy "
                                    "program did)");
    struct arg_str *group =
        arg_str0("g", "group", "G", "run them as this host group (default: the user's primary group)");
    struct arg_lit *unjailed = arg_lit0(NULL, "unjailed",
                                        "a directory that is no jail (/, or it holds the database or another "
                                        "domain's jail) is imported, marked unjailed, instead of refused");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(5);
    void *table[] = {conf, write, dry, vpath, user, group, unjailed, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("migrate-inetd"), table, n, argc, argv, &db);
    char *buf = NULL, *conv = NULL;
    size_t len = 0, clen = 0;
    struct found f = {0};
    if (rc)
        goto out;
    vh_err e;
    const char *path = conf->filename[0];
    char shown[4 * PATH_MAX + 8];
    vh_printable(path, shown, sizeof shown);
    f.file = shown;
    FILE *info = write->count ? stdout : stderr; /* stdout is the file otherwise */
    if (write->count && dry->count) {
        vh_fail(&e, VH_EX_USAGE, "--write and --dry-run exclude each other");
        rc = vc_error(&e);
        goto out;
    }
    struct stat lst, sb;
    if (write->count && lstat(path, &lst) == 0 && !S_ISREG(lst.st_mode)) {
        vh_fail(&e, VH_EX_USAGE, "%s is %s - give the real file to replace", shown,
                S_ISLNK(lst.st_mode) ? "a symbolic link" : "not a regular file");
        rc = vc_error(&e);
        goto out;
    }
    const char *virtuald = vpath->count ? vpath->sval[0] : VH_VIRTUALD_INSTALL_PATH;
    vh_row ident;
    if (vc_bulk_identity(user->count ? user->sval[0] : NULL, group->count ? group->sval[0] : NULL, &ident, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    /* virtuald must find the database from inetd's working directory */
    const char *dbarg = strcmp(db, VH_DB_DEFAULT_PATH) == 0 ? NULL : db;
    if (dbarg && vh_inetd_db_ok(dbarg, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    if (read_all(path, shown, &buf, &len, &sb, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }

    /* 1. find the legacy lines */
    vh_inetd_stats is;
    vh_inetd_ops ops = {on_entry, inetd_diag};
    if (vh_inetd_scan(buf, len, &ops, &f, &is, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    if (is.errors || f.errors) {
        fprintf(stderr,
                "vhostctl: %s: %lu error%s: nothing imported, nothing written - fix the lines above and run "
                "again\n",
                shown, is.errors + f.errors, is.errors + f.errors == 1 ? "" : "s");
        rc = VH_EX_DATAERR;
        goto out;
    }

    /* the new program, checked before anything is imported */
    if (is.legacy && virtuald_ok(virtuald, vpath->count > 0, &e) < 0) {
        rc = vc_error(&e);
        fprintf(stderr, "vhostctl: nothing imported, %s not changed\n", shown);
        goto out;
    }

    /* 2. import every CONF in one transaction */
    unsigned long added = 0, same = 0, errors = 0;
    char abs[PATH_MAX + NAME_MAX + 2], rerun[8192];
    const char *dbfile = vc_db_abspath(db, abs, sizeof abs) == 0 ? abs : NULL;
    vc_command_with(db, argc, argv, "--unjailed", rerun, sizeof rerun);
    if (f.n) {
        sqlite3 *h = NULL;
        if ((rc = vc_open(db, &h)) != 0)
            goto out;
        vh_importer *im = NULL;
        int r = dry->count ? vh_db_begin_read(h, &e) : vh_fleet_begin(h, &e);
        long nested = 0;
        if (r == 0 && (nested = vc_nest(h, db, NULL, NULL, &e)) < 0)
            r = -1;
        if (r == 0)
            r = vh_import_new(h, &im, &e);
        for (size_t i = 0; r == 0 && i < f.n; i++) {
            vh_import_stats *st = &f.jobs[i].st;
            vh_import_opts o = {f.jobs[i].service, VH_IMPORT_SAME_OK, dry->count > 0, &ident, 0, NULL, NULL};
            o.unjailed = unjailed->count > 0;
            o.dbfile = dbfile;
            o.rerun = rerun;
            vh_import_report rep = {vc_print_diag, NULL, NULL};
            r = vh_import_path(im, f.jobs[i].conf, &o, &rep, st, &e);
            added += st->added;
            same += st->same;
            errors += st->parse.errors;
        }
        vh_import_free(im);
        /* K8: every CONF's rows are in the transaction */
        if (r == 0 && !errors && !dry->count)
            r = vc_nest_refuse(h, db, nested, &e);
        /* one summary row for every CONF (audit.h) */
        vh_audit a;
        memset(&a, 0, sizeof a);
        if (r == 0 && !errors && !dry->count && (r = vh_audit_start(&a, argc, argv, &e)) == 0)
            r = vh_audit_bulk(&a, h, "migrate-inetd", NULL, path, added, 0, same, &e);
        /* what happened to each CONF, once the outcome is known */
        for (size_t i = 0; r == 0 && i < f.n; i++) {
            const struct job *j = &f.jobs[i];
            char c[4 * PATH_MAX + 8];
            vh_printable(j->conf, c, sizeof c);
            if (errors && !j->st.parse.errors)
                continue;
            fprintf(errors ? stderr : info, "service %s (%s line %lu): ", j->service, shown, j->line);
            if (errors)
                fprintf(stderr, "%lu error%s in %s\n", j->st.parse.errors, j->st.parse.errors == 1 ? "" : "s", c);
            else
                fprintf(info, "%s %lu domain%s from %s (%lu already there, %lu warning%s)\n",
                        dry->count ? "would import" : "imported", j->st.added, j->st.added == 1 ? "" : "s", c,
                        j->st.same, j->st.parse.warnings, j->st.parse.warnings == 1 ? "" : "s");
        }
        /* added == 0: every row already there - no change, so no
         * commit (issue 13: nothing for the index or a history) */
        if (r < 0 || errors || dry->count || added == 0) {
            vh_db_rollback(h);
            vh_db_close(h, NULL);
            vh_audit_free(&a);
            if (r < 0) {
                rc = vc_error(&e);
                fprintf(stderr, "vhostctl: nothing imported, %s not changed\n", shown);
                goto out;
            }
            if (errors) {
                fprintf(stderr,
                        "vhostctl: %lu error%s in the legacy configurations: nothing imported, %s not changed "
                        "- fix the lines above and run again\n",
                        errors, errors == 1 ? "" : "s", shown);
                rc = VH_EX_DATAERR;
                goto out;
            }
        } else {
            rc = vc_commit_audit(h, &a, NULL, 0);
            vh_audit_free(&a);
            if (rc != 0)
                goto out;
        }
        vc_print_identity(info, &ident, dry->count ? "the domains would" : "the imported domains");
        fflush(info);
    }

    /* 3. the converted inetd.conf */
    FILE *m = open_memstream(&conv, &clen);
    if (!m || vh_inetd_convert(buf, len, virtuald, dbarg, to_stream, m, &e) < 0) {
        if (m)
            fclose(m);
        else
            vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto out;
    }
    if (fclose(m) != 0) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto out;
    }
    unsigned long lines = (unsigned long)is.legacy;
    if (!write->count) {
        if (fwrite(conv, 1, clen, stdout) != clen || fflush(stdout) != 0) {
            vh_fail(&e, VH_EX_IOERR, "writing standard output: %s", strerror(errno));
            rc = vc_error(&e);
            goto out;
        }
        char vshown[4 * PATH_MAX + 8];
        vh_printable(virtuald, vshown, sizeof vshown);
        if (dry->count)
            fprintf(stderr,
                    "vhostctl: dry run: %lu legacy line%s would be converted to run %s, %lu domain%s imported (%lu "
                    "already there); nothing written\n",
                    lines, lines == 1 ? "" : "s", vshown, added, added == 1 ? "" : "s", same);
        else if (lines)
            fprintf(stderr,
                    "vhostctl: %lu legacy line%s converted above to run %s; run again with --write to replace %s "
                    "(keeping %s.bak)\n",
                    lines, lines == 1 ? "" : "s", vshown, shown, shown);
        else
            fprintf(stderr, "vhostctl: %s has no legacy virtuald line (%lu in the new form already)\n", shown,
                    is.converted);
        goto out;
    }
    if (clen == len && memcmp(conv, buf, len) == 0) {
        printf("%s has no legacy virtuald line (%lu in the new form already): nothing written\n", shown, is.converted);
        goto out;
    }
    char bak[PATH_MAX + 8];
    if ((size_t)snprintf(bak, sizeof bak, "%s.bak", path) >= sizeof bak) {
        vh_fail(&e, VH_EX_CANTCREAT, "path %s is too long", shown);
        rc = vc_error(&e);
        goto out;
    }
    /* The backup first: once the new file is in place the old one is
     * already safe. The database is committed before either: a failure
     * here leaves rows that a second run finds identical. */
    if (write_atomic(bak, buf, len, &sb, &e) < 0 || write_atomic(path, conv, clen, &sb, &e) < 0) {
        rc = vc_error(&e);
        fprintf(stderr,
                "vhostctl: the domains are imported; %s was not replaced - fix the above and run again "
                "(a second run does no harm)\n",
                shown);
        goto out;
    }
    char vshown[4 * PATH_MAX + 8];
    printf("wrote %s: %lu legacy line%s converted to run %s; the old file is %s.bak - reload inetd (kill -HUP its "
           "pid, or systemctl reload inetd)\n",
           shown, lines, lines == 1 ? "" : "s", vh_printable(virtuald, vshown, sizeof vshown), shown);
out:
    free(buf);
    free(conv);
    free(f.jobs);
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
