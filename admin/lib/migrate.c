#include "migrate.h"

#include "db.h"
#include "dbadmin.h"
#include "exitcodes.h"
#include "ixwrite.h"

#include <sqlite3.h>

int vh_migrate(sqlite3 *db, int *from, int *to, vh_err *e)
{
    return vh_migrate_hooked(db, from, to, NULL, NULL, e);
}

int vh_migrate_hooked(sqlite3 *db, int *from, int *to, vh_migrate_hook hook, void *ctx, vh_err *e)
{
    int appid = 0, version = 0;
    int want = vh_db_schema_version();
    /* WAL is set once, at creation, outside any transaction (I4). */
    char *errmsg = NULL;
    int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, &errmsg);
    sqlite3_free(errmsg);
    if (rc != SQLITE_OK)
        return vh_db_fail(db, rc, "setting WAL mode", e);
    if (vh_dbadmin_begin(db, e) < 0)
        return -1;
    if (vh_db_read_ids(db, &appid, &version, e) < 0)
        goto fail;
    if (from)
        *from = version;
    int was = version;
    if (version > want) {
        vh_fail(e, VH_EX_CONFIG,
                "schema version %d is newer than %d that this build knows - install the newer vhostctl", version, want);
        goto fail;
    }
    if (version > 0 && appid != VH_DB_APPLICATION_ID) {
        vh_fail(e, VH_EX_CONFIG, "not a virtuald database (application_id 0x%08x) - refusing to change it",
                (unsigned)appid);
        goto fail;
    }
    /* a schema about to change: the lookup index claims nothing from now
     * on (marked under this write lock; vhostctl init rebuilds it after) */
    if (version > 0 && version < want) {
        const char *file = sqlite3_db_filename(db, "main");
        if (file && *file && vh_ixwrite_mark_stale(file, e) < 0)
            goto fail;
    }
    if (version == 0) {
        /* A version-0 file must be empty: never adopt someone else's tables. */
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0) {
            sqlite3_finalize(st);
            vh_fail(e, VH_EX_CONFIG, "the file holds tables but no virtuald schema version - refusing to change it");
            goto fail;
        }
        sqlite3_finalize(st);
    }
    for (int i = 0; i < vh_migrate_count; i++) {
        if (vh_migrate_files[i].version <= version)
            continue;
        rc = sqlite3_exec(db, vh_migrate_files[i].sql, NULL, NULL, &errmsg);
        if (rc != SQLITE_OK) {
            vh_fail(e, VH_EX_SOFTWARE, "migration %s failed: %s", vh_migrate_files[i].name, errmsg ? errmsg : "?");
            sqlite3_free(errmsg);
            goto fail;
        }
    }
    if (vh_db_read_ids(db, &appid, &version, e) < 0)
        goto fail;
    if (version != want || appid != VH_DB_APPLICATION_ID) {
        vh_fail(e, VH_EX_SOFTWARE, "migrations left schema version %d (application_id 0x%08x), expected %d", version,
                (unsigned)appid, want);
        goto fail;
    }
    if (hook && was != version && hook(db, was, version, ctx, e) < 0)
        goto fail;
    if (vh_dbadmin_commit(db, e) < 0)
        return -1;
    if (to)
        *to = version;
    return 0;
fail:
    vh_db_rollback(db);
    return -1;
}
