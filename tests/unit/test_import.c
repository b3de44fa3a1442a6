/* import: legacy files into a real (in-memory) database: conflicts,
 * --replace, dry runs, identities, missing directories, file modes (H13),
 * exposed jails (K7), the property "exact beats default in every line
 * order" and export∘import idempotence (THREATS H). What export does
 * with rows the format cannot say is test_export.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "db.h"
#include "dbadmin.h"
#include "migrate.h"
#include "decide.h"
#include "row.h"
#include "select.h"
#include "exitcodes.h"
#include "export.h"
#include "import.h"
#include "store.h"
#include "unit.h"

#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int memfile(const char *text, size_t n)
{
    int fd = memfd_create("conf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

struct log {
    char *text;
    size_t len;
    FILE *f;
};

static void on_diag(void *ctx, const vh_legacy_diag *d)
{
    struct log *l = ctx;
    fprintf(l->f, "%c %lu %d %s\n", d->severity == VH_LEGACY_ERROR ? 'E' : 'W', d->line, d->kind, d->msg);
}

static void on_row(void *ctx, const vh_legacy_rec *r, int action)
{
    struct log *l = ctx;
    fprintf(l->f, "%s %lu %s %s\n", action == VH_IMPORT_ADD ? "ADD" : "SAME", r->line, r->address, r->dir);
}

/* Import text into db as service in one transaction, committed when
 * clean and not a dry run. Returns the log; *st filled. */
static char *import(sqlite3 *db, const char *service, const char *text, int mode, int dry, const vh_row *ident,
                    vh_import_stats *st)
{
    struct log l = {0};
    l.f = open_memstream(&l.text, &l.len);
    vh_err e;
    vh_importer *im = NULL;
    assert_int_equal(dry ? vh_db_begin_read(db, &e) : vh_dbadmin_begin(db, &e), 0);
    assert_int_equal(vh_import_new(db, &im, &e), 0);
    int fd = memfile(text, strlen(text));
    vh_import_opts o = {service, mode, dry, ident, 0, NULL, NULL};
    /* these tests use "/" as a directory that surely exists: it is no
     * jail (issue 13), so they import it as the operator's --unjailed
     * does; test_no_jail has the rule itself */
    o.unjailed = 1;
    vh_import_report r = {on_diag, on_row, &l};
    if (vh_import_fd(im, "t.conf", fd, &o, &r, st, &e) < 0)
        fail_msg("import: %s", e.msg);
    close(fd);
    vh_import_free(im);
    if (st->parse.errors || dry)
        vh_db_rollback(db);
    else
        assert_int_equal(vh_dbadmin_commit(db, &e), 0);
    fclose(l.f);
    return l.text;
}

/* sql: a whole "SELECT count(*) ..." literal (no SQL built with printf) */
static int count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_import_and_conflicts(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_import_stats st;
    char *t = import(db, "ftp", "10.0.0.1 /\n10.0.0.2 /\ndefault /\n", VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.added, 3);
    assert_int_equal(st.parse.errors, 0);
    assert_string_equal(t, "ADD 1 10.0.0.1 /\nADD 2 10.0.0.2 /\nADD 3 default /\n");
    free(t);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE service = 'ftp' AND user IS NULL AND enabled = 1"),
                     3);
    assert_int_equal(
        count(db, "SELECT count(*) FROM domains WHERE comment = 'imported from t.conf:2' AND address = '10.0.0.2'"), 1);
    /* again: every existing row with another jail is an error, nothing
     * is written */
    t = import(db, "ftp", "10.0.0.3 /\n10.0.0.1 /usr\ndefault /usr\n", VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.conflicts, 2);
    assert_int_equal(st.parse.errors, 2);
    unit_text_has(
        t, "E 2 16 service ftp already has a domain on 10.0.0.1 (jail /) - import with --replace to replace all of "
           "ftp's domains, or change this one in place (vhostctl set ftp 10.0.0.1 --root DIR)");
    unit_text_has(t, "E 3 16 service ftp already has a domain on default");
    free(t);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE 1"), 3);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE address = '10.0.0.3'"), 0);
    /* the same in a dry run: the same errors, from reads only */
    t = import(db, "ftp", "10.0.0.3 /\n10.0.0.1 /usr\n", VH_IMPORT_STRICT, 1, NULL, &st);
    assert_int_equal(st.conflicts, 1);
    assert_int_equal(st.added, 1);
    unit_text_has(t, "ADD 1 10.0.0.3 /\n");
    unit_text_has(t, "E 2 16 service ftp already has a domain on 10.0.0.1");
    free(t);
    /* issue 13: identical rows are already there, in every mode: no
     * error, nothing written (export | import) */
    t = import(db, "ftp", "10.0.0.1 /\ndefault /\n", VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.parse.errors, 0);
    assert_int_equal(st.conflicts, 0);
    assert_int_equal(st.same, 2);
    assert_int_equal(st.added, 0);
    assert_string_equal(t, "SAME 1 10.0.0.1 /\nSAME 2 default /\n");
    free(t);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE 1"), 3);
    /* another service is another key */
    t = import(db, "pop-3", "10.0.0.1 /\n", VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.added, 1);
    free(t);
    /* a parse error: nothing written, good rows counted all the same */
    t = import(db, "www", "10.0.0.1 /\nbad /\n", VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.parse.errors, 1);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE service = 'www'"), 0);
    free(t);
    sqlite3_close(db);
}

/* Issue 13: a directory that is no jail - "/", one that holds another
 * domain's jail, one that holds the database - is an error without
 * --unjailed, and marked unjailed (that row only) with it. */
static void test_no_jail(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_err e;
    vh_import_stats st;
    struct log l = {0};
    vh_importer *im = NULL;
    const char text[] = "10.0.0.1 /srv/j/a\n10.0.0.2 /srv/j\n10.0.0.3 /var/lib\ndefault /\n";
    for (int unjailed = 0; unjailed <= 1; unjailed++) {
        l.f = open_memstream(&l.text, &l.len);
        assert_int_equal(vh_dbadmin_begin(db, &e), 0);
        assert_int_equal(vh_import_new(db, &im, &e), 0);
        int fd = memfile(text, strlen(text));
        vh_import_opts o = {"ftp", VH_IMPORT_STRICT, 0, NULL, 0, NULL, NULL};
        o.unjailed = unjailed;
        o.dbfile = "/var/lib/virtuald/vhosts.db";
        o.rerun = "vhostctl import --service ftp t.conf --unjailed";
        vh_import_report r = {on_diag, on_row, &l};
        assert_int_equal(vh_import_fd(im, "t.conf", fd, &o, &r, &st, &e), 0);
        close(fd);
        vh_import_free(im);
        fclose(l.f);
        if (!unjailed) {
            assert_int_equal(st.parse.errors, 3);
            unit_text_has(l.text, "E 2 18 /srv/j is no jail: it holds the jail /srv/j/a of another domain");
            unit_text_has(l.text, "E 3 18 /var/lib is no jail: it holds the database /var/lib/virtuald/vhosts.db");
            unit_text_has(l.text, "E 4 18 / is no jail: it is the host's root directory");
            unit_text_has(l.text, "vhostctl import --service ftp t.conf --unjailed");
            vh_db_rollback(db);
        } else {
            assert_int_equal(st.parse.errors, 0);
            assert_int_equal(st.added, 4);
            assert_int_equal(vh_dbadmin_commit(db, &e), 0);
        }
        free(l.text);
    }
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE unjailed = 1"), 3);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE unjailed = 0 AND root = '/srv/j/a'"), 1);
    sqlite3_close(db);
}

static void test_replace(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_import_stats st;
    free(import(db, "ftp", "10.0.0.1 /\n10.0.0.2 /\n10.0.0.3 /\n", VH_IMPORT_STRICT, 0, NULL, &st));
    free(import(db, "pop-3", "10.0.0.1 /\n", VH_IMPORT_STRICT, 0, NULL, &st));
    /* dry run: counts what would go, changes nothing */
    char *t = import(db, "ftp", "10.0.0.2 /usr\ndefault /\n", VH_IMPORT_REPLACE, 1, NULL, &st);
    assert_int_equal(st.removed, 3);
    assert_int_equal(st.added, 2);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE service = 'ftp'"), 3);
    free(t);
    t = import(db, "ftp", "10.0.0.2 /usr\ndefault /\n", VH_IMPORT_REPLACE, 0, NULL, &st);
    assert_int_equal(st.removed, 3);
    assert_int_equal(st.added, 2);
    assert_int_equal(st.parse.errors, 0);
    free(t);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE service = 'ftp'"), 2);
    assert_int_equal(
        count(db, "SELECT count(*) FROM domains WHERE service = 'ftp' AND address = '10.0.0.2' AND root = '/usr'"), 1);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE service = 'pop-3'"), 1);
    /* a replacement with an error replaces nothing */
    t = import(db, "ftp", "10.0.0.9 /\n10.0.0.1 rel\n", VH_IMPORT_REPLACE, 0, NULL, &st);
    assert_int_equal(st.parse.errors, 1);
    free(t);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE service = 'ftp'"), 2);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE address = '10.0.0.9'"), 0);
    sqlite3_close(db);
}

static void test_same_ok(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_import_stats st;
    free(import(db, "ftp", "10.0.0.1 /\ndefault /usr\n", VH_IMPORT_SAME_OK, 0, NULL, &st));
    char *t = import(db, "ftp", "10.0.0.1 /\ndefault /usr\n10.0.0.2 /\n", VH_IMPORT_SAME_OK, 0, NULL, &st);
    assert_int_equal(st.same, 2);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.parse.errors, 0);
    unit_text_has(t, "SAME 1 10.0.0.1 /\n");
    unit_text_has(t, "ADD 3 10.0.0.2 /\n");
    free(t);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE service = 'ftp'"), 3);
    /* a different jail on a known address is an error */
    t = import(db, "ftp", "10.0.0.1 /usr\n", VH_IMPORT_SAME_OK, 0, NULL, &st);
    assert_int_equal(st.parse.errors, 1);
    unit_text_has(t, "E 1 16 service ftp already has a domain on 10.0.0.1 with jail / - change it in place (vhostctl "
                     "set ftp 10.0.0.1) or remove it (vhostctl remove ftp 10.0.0.1) and run again");
    free(t);
    /* as is another run-as identity in the same jail */
    vh_row id;
    memset(&id, 0, sizeof id);
    id.has_user = 1;
    strcpy(id.user, "svc");
    strcpy(id.group, "svc");
    id.uid = id.gid = 4242;
    t = import(db, "ftp", "10.0.0.1 /\n", VH_IMPORT_SAME_OK, 1, &id, &st);
    assert_int_equal(st.parse.errors, 1);
    unit_text_has(t, "with another run-as identity in jail /");
    free(t);
    sqlite3_close(db);
}

static void test_identity(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_row id;
    memset(&id, 0, sizeof id);
    id.has_user = 1;
    strcpy(id.user, "svc");
    strcpy(id.group, "svcg");
    id.uid = 4242;
    id.gid = 4343;
    id.groups[0] = 4343;
    id.groups[1] = 5000;
    id.ngroups = 2;
    vh_import_stats st;
    free(import(db, "ftp", "10.0.0.1 /\n10.0.0.2 /\n", VH_IMPORT_STRICT, 0, &id, &st));
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE user = 'svc' AND grp = 'svcg' AND uid = 4242 AND "
                               "gid = 4343 AND groups = '4343,5000'"),
                     2);
    /* what virtuald reads back is a valid row */
    vh_row row;
    vh_err e;
    assert_int_equal(vh_select(db, "ftp", "10.0.0.2", NULL, 0, &row, NULL, &e), VH_RULE_EXACT);
    assert_int_equal(vh_row_valid(&row, &e), 0);
    assert_int_equal(row.uid, 4242);
    assert_int_equal(row.ngroups, 2);
    /* identical identity: SAME */
    char *t = import(db, "ftp", "10.0.0.1 /\n", VH_IMPORT_SAME_OK, 0, &id, &st);
    assert_int_equal(st.same, 1);
    free(t);
    sqlite3_close(db);
}

static void test_missing_dirs(void **s)
{
    (void)s;
    sqlite3 *db = unit_mem_db();
    vh_import_stats st;
    char *t = import(db, "ftp",
                     "10.0.0.1 /nonexistent/vh-test/a\n10.0.0.2 /nonexistent/vh-test/a\n10.0.0.3 /dev/null\n"
                     "10.0.0.4 /\n",
                     VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.added, 4);
    assert_int_equal(st.parse.errors, 0);
    assert_int_equal(st.missing, 2); /* the same directory twice: said once */
    unit_text_has(t, "W 1 48 directory /nonexistent/vh-test/a does not exist yet; imported - build the jail there");
    unit_text_has(t, "W 3 48 /dev/null is not a directory; imported");
    free(t);
    assert_int_equal(count(db, "SELECT count(*) FROM domains WHERE 1"), 4);
    sqlite3_close(db);
}

/* THREATS H13: a legacy file others could write is worth a warning. */
static void test_file_mode(void **s)
{
    (void)s;
    char dir[300];
    snprintf(dir, sizeof dir, "%s", unit_path("file-mode"));
    assert_int_equal(mkdir(dir, 0700), 0); /* as mkdtemp makes it */
    char path[320];
    snprintf(path, sizeof path, "%s/conf", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "10.0.0.1 /\n", 11), 11);
    close(fd);
    sqlite3 *db = unit_mem_db();
    vh_importer *im;
    vh_err e;
    vh_import_stats st;
    struct log l = {0};
    /* "/": no jail, so --unjailed (issue 13), which only a file that is
     * root's alone carries */
    vh_import_opts o = {"ftp", VH_IMPORT_STRICT, 1, NULL, 1, NULL, NULL};
    vh_import_report r = {on_diag, NULL, &l};
    assert_int_equal(vh_import_new(db, &im, &e), 0);
    const mode_t modes[] = {0644, 0664, 0646, 0666};
    const char *who[] = {NULL, "writable by group (mode 0664)", "writable by others (mode 0646)",
                         "writable by group and others (mode 0666)"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(chmod(path, modes[i]), 0);
        l.f = open_memstream(&l.text, &l.len);
        assert_int_equal(vh_import_path(im, path, &o, &r, &st, &e), 0);
        fclose(l.f);
        if (geteuid() == 0 && !who[i]) {
            assert_string_equal(l.text, "");
            assert_int_equal(st.parse.warnings, 0);
            assert_int_equal(st.added, 1);
        } else if (who[i]) {
            unit_text_has(l.text, "W 0 49 the file is ");
            unit_text_has(l.text, who[i]);
            assert_int_equal(st.parse.warnings, 1);
            unit_text_has(l.text, "E 1 18 / is no jail, and --unjailed is taken only from a regular file that root "
                                  "alone can write");
            assert_int_equal(st.added, 0);
        }
        free(l.text);
    }
    /* missing file, a directory: no input */
    assert_int_equal(vh_import_path(im, "/nonexistent/vh-conf", &o, &r, &st, &e), -1);
    assert_int_equal(e.code, VH_EX_NOINPUT);
    unit_text_has(e.msg, "cannot open /nonexistent/vh-conf");
    assert_int_equal(vh_import_path(im, dir, &o, &r, &st, &e), -1);
    assert_int_equal(e.code, VH_EX_NOINPUT);
    unit_text_has(e.msg, "is a directory");
    vh_import_free(im);
    sqlite3_close(db);
    unlink(path);
    rmdir(dir);
}

/* Property: whatever the order of the lines, every exact address beats
 * 'default' (PRODUCT §3), and the unreachable lines are warned about. */
static void permute(const char **lines, int n, int k, int *seen)
{
    if (k == n) {
        char text[512] = "";
        int default_at = -1;
        for (int i = 0; i < n; i++) {
            strcat(text, lines[i]);
            if (strncmp(lines[i], "default", 7) == 0)
                default_at = i;
        }
        sqlite3 *db = unit_mem_db();
        vh_import_stats st;
        char *t = import(db, "ftp", text, VH_IMPORT_STRICT, 0, NULL, &st);
        assert_int_equal(st.parse.errors, 0);
        assert_int_equal(st.added, (unsigned long)n);
        /* every exact line after the default was unreachable before */
        int shadowed = 0;
        for (const char *p = t; (p = strstr(p, " 32 the legacy program never reached this line: the 'default'")); p++)
            shadowed++;
        assert_int_equal(shadowed, n - 1 - default_at);
        free(t);
        static const struct {
            const char *addr, *root;
            int rule;
        } want[] = {{"10.0.0.1", "/usr", VH_RULE_EXACT},    {"10.0.0.2", "/var", VH_RULE_EXACT},
                    {"2001:db8::1", "/etc", VH_RULE_EXACT}, {"10.0.0.3", "/tmp", VH_RULE_EXACT},
                    {"10.0.0.9", "/", VH_RULE_DEFAULT},     {"2001:db8::9", "/", VH_RULE_DEFAULT}};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            vh_row row;
            vh_err e;
            assert_int_equal(vh_select(db, "ftp", want[i].addr, NULL, 0, &row, NULL, &e), want[i].rule);
            assert_string_equal(row.root, want[i].root);
        }
        sqlite3_close(db);
        (*seen)++;
        return;
    }
    for (int i = k; i < n; i++) {
        const char *t = lines[k];
        lines[k] = lines[i];
        lines[i] = t;
        permute(lines, n, k + 1, seen);
        lines[i] = lines[k];
        lines[k] = t;
    }
}

static void test_exact_beats_default(void **s)
{
    (void)s;
    const char *lines[] = {"10.0.0.1 /usr\n", "default /\n", "10.0.0.2 /var\n", "2001:db8::1 /etc\n",
                           "10.0.0.3 /tmp\n"};
    int seen = 0;
    permute(lines, 5, 0, &seen);
    assert_int_equal(seen, 120);
}

/* export∘import is the identity for what the format says, and export is
 * a fixed point: export(import(export(x))) == export(x). */
static void test_round_trip(void **s)
{
    (void)s;
    sqlite3 *a = unit_mem_db();
    vh_import_stats st;
    free(import(a, "ftp",
                "# legacy\n  default /\n10.0.0.2 /var\n10.0.0.1\t/usr  \n2001:DB8::1 /etc\r\n::ffff:10.0.0.3 /tmp\n",
                VH_IMPORT_STRICT, 0, NULL, &st));
    assert_int_equal(st.parse.errors, 0);
    free(import(a, "pop-3", "10.0.0.1 /\n", VH_IMPORT_STRICT, 0, NULL, &st));
    char *x = unit_export(a, "ftp", NULL);
    assert_string_equal(x, "# virtuald domains of service ftp: ADDRESS DIRECTORY, exact addresses first, default "
                           "last\n"
                           "10.0.0.1 /usr\n10.0.0.2 /var\n10.0.0.3 /tmp\n2001:db8::1 /etc\ndefault /\n");
    sqlite3 *b = unit_mem_db();
    char *t = import(b, "ftp", x, VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.parse.errors, 0);
    /* an export reads the same to the legacy program, but for IPv6 */
    assert_int_equal(st.parse.warnings, 1);
    unit_text_has(t, "W 5 34 the legacy program knew IPv4 only");
    free(t);
    char *y = unit_export(b, "ftp", NULL);
    assert_string_equal(x, y);
    /* and the rows are the same rows */
    for (int i = 0; i < 2; i++) {
        const char *addrs[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1", "10.9.9.9"};
        for (size_t k = 0; k < 5; k++) {
            vh_row r1, r2;
            vh_err e;
            assert_int_equal(vh_select(a, "ftp", addrs[k], NULL, 0, &r1, NULL, &e),
                             vh_select(b, "ftp", addrs[k], NULL, 0, &r2, NULL, &e));
            assert_string_equal(r1.root, r2.root);
            assert_string_equal(r1.address, r2.address);
        }
    }
    /* --replace with the export changes nothing either */
    free(import(a, "ftp", x, VH_IMPORT_REPLACE, 0, NULL, &st));
    char *z = unit_export(a, "ftp", NULL);
    assert_string_equal(x, z);
    free(x);
    free(y);
    free(z);
    sqlite3_close(a);
    sqlite3_close(b);
}

/* THREATS K7: an existing jail host users reach on a file system that
 * honours set-uid is an error; hidden below a 0700 parent, or nosuid,
 * it is not. The host's / was made nosuid in this test's namespace
 * (group_setup), so a fresh tmpfs is what honours set-uid here. */
static void test_exposed(void **s)
{
    (void)s;
    char base[300], conf[720];
    snprintf(base, sizeof base, "%s", unit_path("exposed"));
    mkdir(base, 0755);
    chmod(base, 0755);
    char jails[320];
    snprintf(jails, sizeof jails, "%s/jails", base);
    mkdir(jails, 0755);
    assert_int_equal(mount("k7", jails, "tmpfs", 0, "mode=0755,size=1m"), 0);
    char a[340], b[340];
    snprintf(a, sizeof a, "%s/a", jails);
    snprintf(b, sizeof b, "%s/b", jails);
    mkdir(a, 0755);
    mkdir(b, 0755);
    snprintf(conf, sizeof conf, "10.0.0.1 %s\n10.0.0.2 %s\n", a, b);
    sqlite3 *db = unit_mem_db();
    vh_import_stats st;
    char *t = import(db, "ftp", conf, VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.parse.errors, 2);
    assert_non_null(strstr(t, "E 1 17 jail "));
    assert_non_null(strstr(t, "chmod o-x "));
    assert_int_equal(count(db, "SELECT count(*) FROM domains"), 0);
    free(t);
    chmod(base, 0700);
    t = import(db, "ftp", conf, VH_IMPORT_STRICT, 0, NULL, &st);
    assert_int_equal(st.parse.errors, 0);
    assert_int_equal(count(db, "SELECT count(*) FROM domains"), 2);
    free(t);
    sqlite3_close(db);
    umount2(jails, MNT_DETACH);
    rmdir(jails);
    rmdir(base);
}

/* The other tests import host directories (/usr, /etc, ...): in a mount
 * namespace of their own, with / remounted nosuid, those are not
 * exposed (K7), whatever the host's mounts. */
static int group_setup(void **state)
{
    (void)state;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID, NULL) < 0) {
        fprintf(stderr, "test_import needs root (a mount namespace)\n");
        return -1;
    }
    return unit_fixture("legacy-db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exposed),    cmocka_unit_test(test_import_and_conflicts),
        cmocka_unit_test(test_replace),    cmocka_unit_test(test_same_ok),
        cmocka_unit_test(test_identity),   cmocka_unit_test(test_missing_dirs),
        cmocka_unit_test(test_file_mode),  cmocka_unit_test(test_exact_beats_default),
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_no_jail),
    };
    return cmocka_run_group_tests(tests, group_setup, unit_teardown);
}
