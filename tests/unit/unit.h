/* unit.h - what the unit tests share (libvh_unit, linked by every
 * test_*.c): a fixture directory under the root-owned 0755 /run/vhtest
 * (never /tmp: the trust rules hold in tests too), a shell command, a
 * file written whole, an in-memory database with this schema, a row put
 * into a database, the findings of a check collected, a text searched.
 * The helpers that can fail fail the running cmocka test (fail_msg), so
 * they are for test bodies and cmocka setups; include after cmocka.h. */
#ifndef VH_TEST_UNIT_H
#define VH_TEST_UNIT_H

#include "decide.h"
#include "export.h"
#include "row.h"
#include "select.h"
#include "finding.h"

#include <sqlite3.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- the fixture directory ----------------------------------------- */

extern char unit_dir[256]; /* /run/vhtest/unit-NAME.PID, once made */

/* Create /run/vhtest/unit-NAME.PID (0755, /run/vhtest 0755). Returns 0,
 * or -1 when not root or the directory cannot be made. */
int unit_fixture(const char *name);

/* Remove the fixture directory and all below it (nothing before
 * unit_fixture). */
void unit_fixture_remove(void);

/* A cmocka teardown that only removes the fixture directory. */
int unit_teardown(void **state);

/* unit_path("a/b") -> "<fixture>/a/b", in one of 8 static buffers used
 * in turn (so up to 8 may be held at a time). */
const char *unit_path(const char *rel);

/* ---- files and commands -------------------------------------------- */

/* Run a command with sh -c; the test fails unless it exits 0. */
__attribute__((format(printf, 1, 2))) void unit_sh(const char *fmt, ...);

/* Write len bytes of data to path (created or truncated), then set its
 * mode exactly (whatever the umask); the test fails on a short write. */
void unit_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* ---- the database -------------------------------------------------- */

/* An in-memory database with this schema (every migration applied). */
sqlite3 *unit_mem_db(void);

/* A database file at path made as vhostctl init makes it (vh_dbadmin_open
 * creating it and its directory, every migration applied), returned open:
 * the caller closes it with vh_db_close. */
sqlite3 *unit_file_db(const char *path);

/* *r = vh_row_init's defaults (enabled, no user) for svc/addr/root. */
void unit_row(vh_row *r, const char *svc, const char *addr, const char *root);

/* Make r run as nobody:nogroup (65534:65534), its only group. */
void unit_row_nobody(vh_row *r);

/* Add r to db (vh_store_add); the test fails on an error. */
void unit_put(sqlite3 *db, const vh_row *r);

/* ---- findings ------------------------------------------------------ */

#define UNIT_MAX_FINDINGS 64

/* What a check reported through unit_collect: n counts every finding,
 * the first UNIT_MAX_FINDINGS are kept. Set n = 0 before each check. */
typedef struct unit_findings {
    int n;
    struct {
        char kind[40];
        char path[512];
        char problem[512];
        int sev;
    } at[UNIT_MAX_FINDINGS];
} unit_findings;

/* A vh_finding_cb; ctx is the unit_findings to add to. */
void unit_collect(void *ctx, const vh_finding *f);

/* Print the kept findings (cmocka's print_message), to explain a failure. */
void unit_findings_dump(const unit_findings *fs);

/* 1 when a kept finding has this kind and (unless path is NULL) path. */
int unit_findings_has(const unit_findings *fs, const char *kind, const char *path);

/* ---- text ---------------------------------------------------------- */

/* service's rows as vh_export writes them (malloc'd: the caller frees);
 * *st filled unless st is NULL. The test fails if the export does. */
char *unit_export(sqlite3 *db, const char *service, vh_export_stats *st);

/* The test fails unless needle occurs in text (and shows the text). */
void unit_text_has(const char *text, const char *needle);

/* The test fails if needle occurs in text (and shows the text). */
void unit_text_lacks(const char *text, const char *needle);

#endif
