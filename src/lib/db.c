#include "db.h"

#include "exitcodes.h"
#include "path.h"
#include "paths.h"
#include "schema_version.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vh_db_schema_version(void)
{
    return VH_SCHEMA_VERSION;
}

int vh_db_fail(sqlite3 *db, int rc, const char *what, vh_err *e)
{
    int prim = rc & 0xff;
    const char *m = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (prim) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return vh_fail(e, VH_EX_TEMPFAIL, "%s: database is locked past the busy timeout (%s) - retry later", what, m);
    case SQLITE_NOTADB:
        return vh_fail(e, VH_EX_CONFIG,
                       "%s: not an SQLite database (%s) - restore it from backup or run vhostctl init on a new path",
                       what, m);
    case SQLITE_CORRUPT:
        return vh_fail(e, VH_EX_CONFIG, "%s: database is corrupt (%s) - restore it from backup", what, m);
    case SQLITE_CANTOPEN: return vh_fail(e, VH_EX_NOINPUT, "%s: cannot open database (%s)", what, m);
    case SQLITE_NOMEM: return vh_fail(e, VH_EX_OSERR, "%s: out of memory", what);
    case SQLITE_IOERR:
    case SQLITE_FULL: return vh_fail(e, VH_EX_IOERR, "%s: I/O error (%s)", what, m);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return vh_fail(e, VH_EX_NOPERM, "%s: permission denied (%s)", what, m);
    case SQLITE_CONSTRAINT: return vh_fail(e, VH_EX_DATAERR, "%s: %s", what, m);
    default: return vh_fail(e, VH_EX_SOFTWARE, "%s: %s", what, m);
    }
}

struct trust_ctx {
    int bits;
    char msg[sizeof(((vh_err *)0)->msg)];
};

static void trust_cb(void *ctx, int problem, const char *path, const struct stat *st, const char *msg)
{
    (void)path;
    (void)st;
    struct trust_ctx *t = ctx;
    if (!t->bits)
        snprintf(t->msg, sizeof t->msg, "%s", msg);
    t->bits |= problem;
}

/* vh_db_trust, also telling whether the -shm sidecar exists (*have_shm). */
static int trust(const char *path, int *have_shm, vh_err *e)
{
    struct trust_ctx t = {0};
    *have_shm = 0;
    if (vh_path_walk(path, VH_WANT_FILE, trust_cb, &t, NULL, NULL) != 0) {
        if (t.bits & VH_PATH_MISSING)
            return vh_fail(e, VH_EX_NOINPUT,
                           "database untrusted or missing: %s (create it with: vhostctl --db %s init)", t.msg, path);
        return vh_fail(e, VH_EX_CONFIG, "database untrusted: %s", t.msg);
    }
    /* Sidecars: the directory above is root-owned and not writable by
     * anyone else, so nobody but root could have made these (E4). */
    static const char *const sfx[] = {VH_WAL_SUFFIX, VH_SHM_SUFFIX};
    for (size_t i = 0; i < 2; i++) {
        char side[PATH_MAX + 8], msg[2 * PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(side, sizeof side, "%s%s", path, sfx[i]) >= sizeof side)
            return vh_fail(e, VH_EX_CONFIG, "database path too long");
        if (lstat(side, &st) < 0) {
            if (errno == ENOENT)
                continue;
            return vh_fail(e, VH_EX_CONFIG, "database untrusted: cannot stat %s: %s", side, strerror(errno));
        }
        if (!S_ISREG(st.st_mode))
            return vh_fail(e, VH_EX_CONFIG, "database untrusted: %s is not a regular file (%s) - remove it", side,
                           S_ISLNK(st.st_mode) ? "a symbolic link" : "special file");
        if (vh_path_judge(side, &st, msg, sizeof msg))
            return vh_fail(e, VH_EX_CONFIG, "database untrusted: %s", msg);
        if (i == 1)
            *have_shm = 1;
    }
    return 0;
}

int vh_db_trust(const char *path, vh_err *e)
{
    int have_shm;
    return trust(path, &have_shm, e);
}

void vh_db_runtime_tune(void)
{
    /* Each call fails harmlessly (SQLITE_MISUSE) once SQLite is
     * initialised; nothing here changes what is read or checked. */
    /* one thread: no mutexes at all */
    sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
    /* no global allocation statistics (a lock and counters per malloc) */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* no up-front bulk allocation of page-cache slots per connection: a
     * lookup touches four or five pages, not the ~100 KiB SQLite would
     * otherwise allocate and fault in */
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)0, 0, 0);
}

/* vh_db_harden: connection settings shared by both opens; busy_ms differs: virtuald
 * gives up after VH_DB_BUSY_MS (a connection must not wait long), an
 * admin command waits its turn behind other writers for longer. */
int vh_db_harden(sqlite3 *db, int busy_ms, vh_err *e)
{
    int rc = sqlite3_extended_result_codes(db, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(db, busy_ms);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "configuring the database connection", e);
    return 0;
}

static int read_pragma(sqlite3 *db, const char *sql, int *out, vh_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "reading the schema version", e);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        vh_db_fail(db, rc, "reading the schema version", e);
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* vh_db_read_ids: application_id and user_version: two plain PRAGMA statements, each
 * compiled to one header read. (The pragma_* table-valued functions would
 * do it in one statement but cost a virtual-table declaration each: a
 * third of a virtuald run, measured in bench/REPORT.md.) The caller holds
 * a transaction when both must come from one snapshot. */
int vh_db_read_ids(sqlite3 *db, int *appid, int *version, vh_err *e)
{
    if (read_pragma(db, "PRAGMA application_id", appid, e) < 0 ||
        read_pragma(db, "PRAGMA user_version", version, e) < 0)
        return -1;
    return 0;
}

int vh_db_check_version(sqlite3 *db, const char *path, vh_err *e)
{
    int appid = 0, version = 0;
    if (vh_db_read_ids(db, &appid, &version, e) < 0)
        return -1;
    int want = vh_db_schema_version();
    if (version == 0 && appid == 0)
        return vh_fail(e, VH_EX_CONFIG,
                       "%s is empty or not a virtuald database (schema version 0) - run: vhostctl --db %s init", path,
                       path);
    if (appid != VH_DB_APPLICATION_ID)
        return vh_fail(e, VH_EX_CONFIG,
                       "%s is an SQLite database of another application (application_id 0x%08x, expected 0x%08x)", path,
                       (unsigned)appid, (unsigned)VH_DB_APPLICATION_ID);
    if (version < want)
        return vh_fail(e, VH_EX_CONFIG,
                       "%s has schema version %d, this virtuald reads version %d - upgrade it: vhostctl --db %s init",
                       path, version, want, path);
    if (version > want)
        return vh_fail(
            e, VH_EX_CONFIG,
            "%s has schema version %d, newer than version %d that this build knows - install the newer virtuald", path,
            version, want);
    return 0;
}

/* "file:" and path as an SQLite URI, every byte but [A-Za-z0-9/._~-]
 * percent-encoded, so that no '?', '#' or '%' in a path can add a query
 * parameter. Returns 0, or -1 when it does not fit. */
static int path_uri(const char *path, const char *query, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (n < 6)
        return -1;
    memcpy(out, "file:", 5);
    o = 5;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (o + 4 >= n)
            return -1;
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '/' ||
            *p == '.' || *p == '_' || *p == '~' || *p == '-') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o + strlen(query) + 1 > n)
        return -1;
    memcpy(out + o, query, strlen(query) + 1);
    return 0;
}

/* vh_db_open_runtime after the trust check; ro_shm: open the -shm
 * read-only (it existed at the check). */
static int open_runtime(const char *path, int ro_shm, sqlite3 **out, vh_err *e)
{
    /* The WAL index (-shm) is opened read-only when it exists
     * (readonly_shm, SQLite's documented mode for readers without write
     * access, os_unix.c and wal.c since 3.22). Opened read-write, a lone
     * reader - which every virtuald is, unless vhostctl is connected at
     * that moment - would take the "first connection" lock, truncate the
     * -shm, write it anew and run WAL recovery on every connection
     * (PRODUCT §10). Read-only, it reads the -shm of a connected writer as
     * usual, or, with none connected, builds its WAL index in private
     * memory from the -wal, which vhostctl keeps short (vh_db_close).
     * Nothing is written. Without
     * a -shm (a database that no vhostctl of this version touched since),
     * SQLite needs to create it: the plain read-only open does that once,
     * and from then on the -shm stays (vh_dbadmin_open: persistent WAL). */
    char uri[3 * PATH_MAX + 32];
    if (path_uri(path, ro_shm ? "?readonly_shm=1" : "", uri, sizeof uri) < 0)
        return vh_fail(e, VH_EX_CONFIG, "database path too long");
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri, &db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK) {
        vh_db_fail(db, rc, path, e);
        sqlite3_close(db);
        return -1;
    }
    VH_MARK("db_open");
    if (vh_db_harden(db, VH_DB_BUSY_MS, e) < 0) {
        sqlite3_close(db);
        return -1;
    }
    VH_MARK("db_harden");
    /* One read transaction from the version check to the lookup: both see
     * the same snapshot, so a migration that commits in between cannot
     * make the check pass on the old schema and the lookup run on the new
     * one (THREATS I7). vh_db_close ends it. */
    if (vh_db_begin_read(db, e) < 0 || vh_db_check_version(db, path, e) < 0) {
        int prim = sqlite3_errcode(db) & 0xff;
        sqlite3_close(db);
        /* Where the read-only -shm cannot serve, open the ordinary way,
         * once - as virtuald did before readonly_shm, correct and only
         * slower: the -shm vanished between the check and the open (a
         * writer that does not keep it, the sqlite3 shell or an older
         * vhostctl, closed last; the ordinary open creates it anew, root's,
         * in the trusted directory), or a writer is connected and SQLite
         * finds no read mark a read-only reader may use
         * (SQLITE_READONLY_CANTINIT, seen under concurrent writes). */
        if (ro_shm && (prim == SQLITE_CANTOPEN || prim == SQLITE_READONLY))
            return open_runtime(path, 0, out, e);
        return -1;
    }
    VH_MARK("db_version");
    *out = db;
    return 0;
}

int vh_db_open_runtime(const char *path, sqlite3 **out, vh_err *e)
{
    *out = NULL;
    int have_shm = 0;
    if (trust(path, &have_shm, e) < 0)
        return -1;
    VH_MARK("db_trust");
    return open_runtime(path, have_shm, out, e);
}

int vh_db_close(sqlite3 *db, vh_err *e)
{
    if (!db)
        return 0;
    /* A runtime connection ends its read transaction here. */
    vh_db_rollback(db);
    /* After bulk work (an import), truncate the WAL (THREATS I4): a reader
     * with a read-only -shm and no writer connected builds its WAL index
     * from the whole -wal file (vh_db_open_runtime), and a PASSIVE
     * checkpoint (vhostctl's after every change) copies the WAL but leaves
     * the file as long as it was. A TRUNCATE checkpoint waits for readers
     * to leave the WAL and holds other writers off meanwhile: worth it
     * after bulk work, not per row, and bounded by virtuald's busy timeout.
     * Short WALs need nothing: the next change starts the WAL over and cuts
     * it to its own frames (journal_size_limit 0), and the last connection
     * to close truncates it to zero. */
    struct stat wal;
    char walpath[PATH_MAX + 8];
    const char *file = sqlite3_db_filename(db, "main");
    if (sqlite3_total_changes(db) > 0 && file && *file &&
        (size_t)snprintf(walpath, sizeof walpath, "%s" VH_WAL_SUFFIX, file) < sizeof walpath &&
        stat(walpath, &wal) == 0 && wal.st_size > VH_DB_WAL_BULK_BYTES) {
        sqlite3_busy_timeout(db, VH_DB_BUSY_MS);
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    int rc = sqlite3_close(db);
    if (rc != SQLITE_OK)
        return vh_fail(e, VH_EX_SOFTWARE, "closing the database: %s (statement left unfinalized)", sqlite3_errstr(rc));
    return 0;
}

int vh_db_begin_read(sqlite3 *db, vh_err *e)
{
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "starting a read transaction", e);
    return 0;
}

void vh_db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
