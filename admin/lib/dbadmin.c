#include "dbadmin.h"

#include "db.h"
#include "exitcodes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vh_dbadmin_open(const char *path, int create, sqlite3 **out, vh_err *e)
{
    *out = NULL;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode))
            return vh_fail(e, VH_EX_CONFIG, "database %s is a symbolic link - give the real path", path);
        if (!S_ISREG(st.st_mode))
            return vh_fail(e, VH_EX_CONFIG, "database %s is not a regular file", path);
    } else if (errno != ENOENT) {
        return vh_fail(e, VH_EX_NOINPUT, "cannot stat database %s: %s", path, strerror(errno));
    } else if (!create) {
        return vh_fail(e, VH_EX_NOINPUT, "database %s does not exist - create it with: vhostctl --db %s init", path,
                       path);
    } else {
        /* E6: a new database is 0600 in a 0700 directory made here when
         * missing. Only the last directory is created: the rest of the
         * path is the operator's choice and is checked, not invented. */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return vh_fail(e, VH_EX_CANTCREAT, "cannot create directory %s: %s - create its parent first", dir,
                               strerror(errno));
        }
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return vh_fail(e, VH_EX_CANTCREAT, "cannot create database %s: %s", path, strerror(errno));
        close(fd);
    }
    sqlite3 *db = NULL;
    /* SQLITE_OPEN_URI: for sync's ATTACH of a snapshot read-only
     * (file:...?mode=ro, fleet.c); path itself is absolute, never a URI */
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK) {
        vh_db_fail(db, rc, path, e);
        sqlite3_close(db);
        return -1;
    }
    /* Keep -wal and -shm when the last connection closes (truncated to
     * zero bytes, journal_size_limit 0): virtuald opens the -shm
     * read-only, which needs it to exist (vh_db_open_runtime). */
    int persist = 1;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    sqlite3_exec(db, "PRAGMA journal_size_limit = 0", NULL, NULL, NULL);
    if (vh_db_harden(db, VH_DB_ADMIN_BUSY_MS, e) < 0 || (!create && vh_db_check_version(db, path, e) < 0)) {
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

int vh_dbadmin_begin(sqlite3 *db, vh_err *e)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "starting a transaction", e);
    return 0;
}

int vh_dbadmin_commit(sqlite3 *db, vh_err *e)
{
    int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        vh_db_fail(db, rc, "committing", e);
        vh_db_rollback(db);
        return -1;
    }
    return 0;
}
