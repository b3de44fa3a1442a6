#include "import.h"

#include "db.h"
#include "exitcodes.h"
#include "fd.h"
#include "nest.h"
#include "path.h"
#include "row.h"
#include "store.h"
#include "valid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct vh_importer {
    sqlite3 *db;
    sqlite3_stmt *insert, *existing, *count, *delete;
    sqlite3_stmt *nojail; /* vh_nest_no_jail's, kept */
};

/* One time for every row of an import (?10): the rows were made
 * together, and SQLite's strftime per row was a tenth of the work. */
static const char insert_sql[] =
    "INSERT INTO domains (" VH_ROW_BASE_COLS ", comment, created, updated, unjailed)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?10, ?11) ON CONFLICT (service, address) DO NOTHING";
static const char existing_sql[] =
    "SELECT root, user IS NOT NULL, uid, gid, groups, unjailed FROM domains WHERE service = ?1 AND address = ?2";
/* --replace replaces what the flat format can hold: addresses and
 * 'default' (the key kinds of addr.h, told by the same syntax). A prefix
 * row (issue 15) or a name or wildcard row (issue 17), which export
 * skips, stays. */
#define VH_FLAT_KEY                                                                                                    \
    "(address = 'default' OR (instr(address, '/') = 0 AND (instr(address, ':') > 0 OR address NOT GLOB "               \
    "'*[^0-9.]*')))"
static const char count_sql[] = "SELECT count(*) FROM domains WHERE service = ?1 AND " VH_FLAT_KEY;
static const char delete_sql[] = "DELETE FROM domains WHERE service = ?1 AND " VH_FLAT_KEY;

int vh_import_new(sqlite3 *db, vh_importer **out, vh_err *e)
{
    *out = NULL;
    vh_importer *im = calloc(1, sizeof *im);
    if (!im)
        return vh_fail(e, VH_EX_OSERR, "out of memory");
    im->db = db;
    struct {
        const char *sql;
        size_t len;
        sqlite3_stmt **st;
    } prep[] = {
        {insert_sql, sizeof insert_sql, &im->insert},
        {existing_sql, sizeof existing_sql, &im->existing},
        {count_sql, sizeof count_sql, &im->count},
        {delete_sql, sizeof delete_sql, &im->delete},
    };
    for (size_t i = 0; i < sizeof prep / sizeof prep[0]; i++) {
        int rc = sqlite3_prepare_v3(db, prep[i].sql, (int)prep[i].len, SQLITE_PREPARE_PERSISTENT, prep[i].st, NULL);
        if (rc != SQLITE_OK) {
            vh_db_fail(db, rc, "preparing the import", e);
            vh_import_free(im);
            return -1;
        }
    }
    *out = im;
    return 0;
}

void vh_import_free(vh_importer *im)
{
    if (!im)
        return;
    sqlite3_finalize(im->insert);
    sqlite3_finalize(im->existing);
    sqlite3_finalize(im->count);
    sqlite3_finalize(im->delete);
    sqlite3_finalize(im->nojail);
    free(im);
}

/* State of one file's import, handed to the parser's callbacks. */
struct run {
    vh_importer *im;
    const char *file;
    const vh_import_opts *o;
    const vh_import_report *r;
    vh_import_stats *st;
    unsigned long errors, warnings; /* the importer's own diagnostics */
    char groups[VH_MAX_GROUPS * 12];
    char now[32];              /* created and updated of every row */
    char file_shown[600];      /* file, printable, for comments */
    char lastdir[PATH_MAX];    /* the last directory looked at */
    char lastparent[PATH_MAX]; /* K7: the last parent judged, and whether */
    int parent_hides;          /* some ancestor hides its jails */
    char lastroot[PATH_MAX];   /* issue 13: the last directory judged, */
    int lastnojail;            /* and whether it is no jail */
    int untrusted;             /* the file is not root's alone: --unjailed is not taken */
    char why[2 * PATH_MAX];
    char comment[VH_COMMENT_MAX];
    char msg[4 * PATH_MAX + 1024];
    char shown[4 * PATH_MAX + 8];
};

__attribute__((format(printf, 4, 5))) static void note(struct run *run, unsigned long line, int kind, const char *fmt,
                                                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->msg, sizeof run->msg, fmt, ap);
    va_end(ap);
    int sev = kind < VH_LEGACY_W_SHADOWED ? VH_LEGACY_ERROR : VH_LEGACY_WARNING;
    if (sev == VH_LEGACY_ERROR)
        run->errors++;
    else
        run->warnings++;
    if (run->r && run->r->diag) {
        vh_legacy_diag d = {run->file, line, sev, kind, run->msg};
        run->r->diag(run->r->ctx, &d);
    }
}

static void parser_diag(void *ctx, const vh_legacy_diag *d)
{
    struct run *run = ctx;
    if (run->r && run->r->diag)
        run->r->diag(run->r->ctx, d);
}

static int has_user(const vh_import_opts *o)
{
    return o->ident && o->ident->has_user;
}

/* THREATS K7 for an existing jail: an ancestor others cannot search
 * (judged once per parent directory: a million jails side by side cost
 * one walk), or else a nosuid file system. A jail that does not exist
 * yet is judged by check (and add) once it is built. */
static void check_exposed(struct run *run, const vh_legacy_rec *rec)
{
    if (strcmp(rec->dir, "/") == 0)
        return; /* no jail at all: check's root-is-slash warning */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", rec->dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        slash[slash == parent] = '\0';
    if (strcmp(parent, run->lastparent) != 0) {
        snprintf(run->lastparent, sizeof run->lastparent, "%s", parent);
        run->parent_hides = vh_path_ancestors_hide(rec->dir);
    }
    if (run->parent_hides || vh_path_nosuid(rec->dir))
        return;
    char pshown[4 * PATH_MAX + 8];
    vh_printable(parent, pshown, sizeof pshown);
    struct stat pst; /* never "chmod o-x /tmp" (issue 13 point 6) */
    if (stat(parent, &pst) == 0 && vh_path_is_scratch(&pst)) {
        note(run, rec->line, VH_LEGACY_E_EXPOSED,
             "jail %s is reachable by every host user and its file system honours set-uid: a set-uid file a root "
             "service plants there runs as root for anyone - move it out of the shared scratch directory %s, below "
             "a directory others cannot search (0750 or 0700 root)",
             run->shown, pshown);
        return;
    }
    note(run, rec->line, VH_LEGACY_E_EXPOSED,
         "jail %s is reachable by every host user and its file system honours set-uid: a set-uid file a root "
         "service plants there runs as root for anyone - chmod o-x %s (0750 or 0700 root), or mount the jails' "
         "file system with nosuid",
         run->shown, pshown);
}

/* A missing jail is no error: the operator may build it after the import,
 * and `vhostctl check` reports it until then. Consecutive rows with the
 * same directory are looked at once. */
static void check_dir(struct run *run, const vh_legacy_rec *rec)
{
    if (strcmp(rec->dir, run->lastdir) == 0)
        return;
    snprintf(run->lastdir, sizeof run->lastdir, "%s", rec->dir);
    struct stat st;
    vh_printable(rec->dir, run->shown, sizeof run->shown);
    if (stat(rec->dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            if (!run->lastnojail) /* unjailed: K7 is not checked for it */
                check_exposed(run, rec);
            return;
        }
        note(run, rec->line, VH_LEGACY_W_NODIR,
             "%s is not a directory; imported - virtuald refuses this domain until a jail directory is there "
             "(vhostctl check reports it)",
             run->shown);
    } else if (errno == ENOENT || errno == ENOTDIR) {
        note(run, rec->line, VH_LEGACY_W_NODIR,
             "directory %s does not exist yet; imported - build the jail there (vhostctl check reports what is "
             "missing until then)",
             run->shown);
    } else {
        note(run, rec->line, VH_LEGACY_W_NODIR,
             "cannot look at directory %s (%s); imported - vhostctl check reports it", run->shown, strerror(errno));
    }
    run->st->missing++;
}

/* The row already stored for (service, address): is it the same jail and
 * the same run-as identity? Returns 1 same, 0 different (its root copied
 * to other), 2 no such row, -1 database error. */
static int same_row(struct run *run, const vh_legacy_rec *rec, char *other, size_t n, vh_err *e)
{
    sqlite3_stmt *st = run->im->existing;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, run->o->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rec->address, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return 2; /* no row at all */
    }
    if (rc != SQLITE_ROW) {
        vh_db_fail(run->im->db, rc, "reading an existing domain", e);
        sqlite3_reset(st);
        return -1;
    }
    const char *root = (const char *)sqlite3_column_text(st, 0);
    snprintf(other, n, "%s", root ? root : "");
    int same = root && strcmp(root, rec->dir) == 0 && sqlite3_column_int(st, 1) == has_user(run->o) &&
               sqlite3_column_int(st, 5) == run->lastnojail;
    if (same && has_user(run->o)) {
        const char *g = (const char *)sqlite3_column_text(st, 4);
        same = (uint32_t)sqlite3_column_int64(st, 2) == run->o->ident->uid &&
               (uint32_t)sqlite3_column_int64(st, 3) == run->o->ident->gid && g && strcmp(g, run->groups) == 0;
    }
    sqlite3_reset(st);
    return same;
}

/* An existing row: fine when SAME_OK and identical, else an error. */
static int existing(struct run *run, const vh_legacy_rec *rec, vh_err *e)
{
    char other[PATH_MAX], oshown[4 * PATH_MAX + 8];
    int same = same_row(run, rec, other, sizeof other, e);
    if (same < 0)
        return -1;
    if (same == 2)
        return 0; /* none: the caller adds it */
    /* issue 13: an identical row is "already there" for every mode
     * (REPLACE has deleted the service's rows first): export | import
     * changes nothing and succeeds */
    if (same == 1) {
        run->st->same++;
        if (run->r && run->r->row)
            run->r->row(run->r->ctx, rec, VH_IMPORT_SAME);
        return 1;
    }
    run->st->conflicts++;
    vh_printable(other, oshown, sizeof oshown);
    if (run->o->mode == VH_IMPORT_SAME_OK)
        note(run, rec->line, VH_LEGACY_E_EXISTS,
             "service %s already has a domain on %s with %s %s - change it in place (vhostctl set %s %s) or "
             "remove it (vhostctl remove %s %s) and run again",
             run->o->service, rec->address, strcmp(other, rec->dir) == 0 ? "another run-as identity in jail" : "jail",
             oshown, run->o->service, rec->address, run->o->service, rec->address);
    else
        note(run, rec->line, VH_LEGACY_E_EXISTS,
             "service %s already has a domain on %s (jail %s) - import with --replace to replace all of %s's "
             "domains, or change this one in place (vhostctl set %s %s --root DIR)",
             run->o->service, rec->address, oshown, run->o->service, run->o->service, rec->address);
    return 1;
}

/* Issue 13: is rec's directory no jail (nest.h)? Consecutive rows with
 * the same directory are judged once. 1, 0, or -1 with e. */
static int no_jail(struct run *run, const vh_legacy_rec *rec, vh_err *e)
{
    if (run->lastroot[0] && strcmp(rec->dir, run->lastroot) == 0)
        return run->lastnojail;
    int nj = vh_nest_no_jail(run->im->db, &run->im->nojail, rec->dir, run->o->dbfile, run->why, sizeof run->why, e);
    if (nj < 0)
        return -1;
    snprintf(run->lastroot, sizeof run->lastroot, "%s", rec->dir);
    run->lastnojail = nj;
    return nj;
}

static int on_row(void *ctx, const vh_legacy_rec *rec, vh_err *e)
{
    struct run *run = ctx;
    int nj = no_jail(run, rec, e);
    if (nj < 0)
        return -1;
    if (nj && run->o->unjailed && run->untrusted) {
        /* a tenant who can write the file must not get a row without a
         * jail through the operator's --unjailed (THREATS H13); a row
         * already there as it is (marked by the operator before) changes
         * nothing: "already there" (point 5) */
        int rc = existing(run, rec, e);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        vh_printable(rec->dir, run->shown, sizeof run->shown);
        note(run, rec->line, VH_LEGACY_E_NOJAIL,
             "%s is no jail, and --unjailed is taken only from a regular file that root alone can write (not "
             "from a pipe or standard input, nor a file others can write: see any warning about it) - check every "
             "line, put it in a file that is root's and not writable by others (chown root; chmod go-w), and run "
             "again",
             run->shown);
        return 0;
    }
    if (nj && !run->o->unjailed) {
        char why[4 * sizeof run->why];
        vh_printable(rec->dir, run->shown, sizeof run->shown);
        vh_printable(run->why, why, sizeof why);
        note(run, rec->line, VH_LEGACY_E_NOJAIL,
             "%s is no jail: %s - a service there could read and change the host's files (/etc/shadow) or other "
             "domains' jails; give the line a jail of its own, or, to keep the legacy meaning on purpose (the row "
             "is then marked unjailed): %s",
             run->shown, why, run->o->rerun ? run->o->rerun : "run again with --unjailed");
        return 0;
    }
    check_dir(run, rec);
    if (run->o->dry_run) {
        if (run->o->mode != VH_IMPORT_REPLACE) {
            int rc = existing(run, rec, e);
            if (rc != 0)
                return rc < 0 ? -1 : 0;
        }
    } else {
        sqlite3_stmt *st = run->im->insert;
        snprintf(run->comment, sizeof run->comment, "imported from %s:%lu", run->file_shown, rec->line);
        sqlite3_bind_text(st, 2, rec->address, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, rec->dir, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, run->comment, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 11, nj);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return vh_db_fail(run->im->db, rc, "inserting a domain", e);
        if (sqlite3_changes(run->im->db) == 0) {
            /* the conflict clause kept the old row: say why */
            rc = existing(run, rec, e);
            if (rc < 0)
                return -1;
            if (rc > 0)
                return 0;
            return vh_fail(e, VH_EX_SOFTWARE, "inserting %s %s changed nothing", run->o->service, rec->address);
        }
    }
    run->st->added++;
    if (run->r && run->r->row)
        run->r->row(run->r->ctx, rec, VH_IMPORT_ADD);
    return 0;
}

/* Bind what is the same for every row of this file. */
static void bind_constants(struct run *run)
{
    sqlite3_stmt *st = run->im->insert;
    const vh_import_opts *o = run->o;
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, o->service, -1, SQLITE_STATIC);
    if (has_user(o)) {
        sqlite3_bind_text(st, 4, o->ident->user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, o->ident->group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, o->ident->uid);
        sqlite3_bind_int64(st, 7, o->ident->gid);
    }
    sqlite3_bind_text(st, 8, run->groups, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, run->now, -1, SQLITE_STATIC);
}

/* REPLACE: delete the service's address and default rows (dry run:
 * count them); its prefix rows stay. */
static int clear_service(struct run *run, vh_err *e)
{
    sqlite3_stmt *st = run->o->dry_run ? run->im->count : run->im->delete;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, run->o->service, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (run->o->dry_run && rc == SQLITE_ROW) {
        run->st->removed += (unsigned long)sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE) {
        run->st->removed += (unsigned long)sqlite3_changes(run->im->db);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vh_db_fail(run->im->db, rc, "removing the service's domains", e);
    return 0;
}

static int import_fd(vh_importer *im, const char *file, int fd, const vh_import_opts *o, const vh_import_report *r,
                     int untrusted, vh_import_stats *st, vh_err *e);

int vh_import_fd(vh_importer *im, const char *file, int fd, const vh_import_opts *o, const vh_import_report *r,
                 vh_import_stats *st, vh_err *e)
{
    return import_fd(im, file, fd, o, r, 0, st, e);
}

static int import_fd(vh_importer *im, const char *file, int fd, const vh_import_opts *o, const vh_import_report *r,
                     int untrusted, vh_import_stats *st, vh_err *e)
{
    memset(st, 0, sizeof *st);
    if (vh_valid_service(o->service, 1, e) < 0)
        return -1;
    struct run *run = calloc(1, sizeof *run);
    if (!run)
        return vh_fail(e, VH_EX_OSERR, "out of memory");
    run->im = im;
    run->file = file;
    run->o = o;
    run->r = r;
    run->st = st;
    run->untrusted = untrusted;
    if (has_user(o))
        vh_row_groups_format(o->ident->groups, o->ident->ngroups, run->groups, sizeof run->groups);
    vh_printable(file, run->file_shown, sizeof run->file_shown);
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(run->now, sizeof run->now, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        free(run);
        return vh_fail(e, VH_EX_OSERR, "cannot read the clock");
    }
    int rc = -1;
    if (o->mode == VH_IMPORT_REPLACE && clear_service(run, e) < 0)
        goto out;
    bind_constants(run);
    vh_legacy_ops ops = {on_row, parser_diag};
    rc = vh_legacy_parse_fd(file, fd, &ops, run, &st->parse, e);
    sqlite3_clear_bindings(im->insert); /* nothing may point into run */
    st->parse.errors += run->errors;
    st->parse.warnings += run->warnings;
out:
    free(run);
    return rc;
}

int vh_import_path(vh_importer *im, const char *path, const vh_import_opts *o, const vh_import_report *r,
                   vh_import_stats *st, vh_err *e)
{
    memset(st, 0, sizeof *st);
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (K11); it
     * is refused below, before any read. */
    int std = strcmp(path, "-") == 0;
    int fd = std ? dup(0) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    char shown[4 * PATH_MAX + 8];
    vh_printable(path, shown, sizeof shown);
    if (fd < 0)
        return vh_fail(e, VH_EX_NOINPUT, "cannot open %s: %s", shown, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        vh_fail(e, VH_EX_NOINPUT, "cannot stat %s: %s", shown, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        vh_fail(e, VH_EX_NOINPUT, "%s is a directory - give the legacy configuration file", shown);
        close(fd);
        return -1;
    }
    /* THREATS K11: a device or a FIFO named as the file may never end.
     * Standard input may be a pipe (the operator's own); the parser's
     * bounds (legacy.h: size, line length, binary data) end it. */
    if (!std && !S_ISREG(sb.st_mode)) {
        vh_fail(e, VH_EX_NOINPUT,
                "%s is not a regular file (%s) - give the legacy configuration file, or '-' to read "
                "standard input",
                shown, vh_fd_type_name(sb.st_mode));
        close(fd);
        return -1;
    }
    if (!std && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        vh_fail(e, VH_EX_NOINPUT, "cannot read %s: %s", shown, strerror(errno));
        close(fd);
        return -1;
    }
    /* THREATS H13: whoever could write the file chose the legacy jails. */
    unsigned long extra = 0;
    int untrusted = S_ISREG(sb.st_mode) && (sb.st_uid != 0 || (sb.st_mode & 022));
    if (untrusted && r && r->diag) {
        char msg[sizeof shown + 400];
        if (sb.st_mode & 022)
            snprintf(msg, sizeof msg,
                     "the file is writable by %s (mode %04o): anyone who could write it chose the jails of the "
                     "legacy program - check every line before trusting it, and chmod go-w %s",
                     (sb.st_mode & 020) && (sb.st_mode & 002) ? "group and others"
                     : (sb.st_mode & 020)                     ? "group"
                                                              : "others",
                     (unsigned)(sb.st_mode & 07777), shown);
        else
            snprintf(msg, sizeof msg,
                     "the file is owned by uid %u, not root: that user chose the jails of the legacy program - check "
                     "every line before trusting it",
                     (unsigned)sb.st_uid);
        vh_legacy_diag d = {path, 0, VH_LEGACY_WARNING, VH_LEGACY_W_FILE, msg};
        r->diag(r->ctx, &d);
        extra = 1;
    }
    /* --unjailed needs a regular file root alone can write: what comes
     * through a pipe has no owner to judge (cat tenantfile | ...) */
    int rc = import_fd(im, path, fd, o, r, untrusted || !S_ISREG(sb.st_mode), st, e);
    st->parse.warnings += extra;
    close(fd);
    return rc;
}
