/* unit.c - what the unit tests share; see unit.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "db.h"
#include "dbadmin.h"
#include "export.h"
#include "migrate.h"
#include "store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the fixture directory ----------------------------------------- */

char unit_dir[256];

int unit_fixture(const char *name)
{
    if (geteuid() != 0)
        return -1;
    mkdir("/run/vhtest", 0755);
    chmod("/run/vhtest", 0755);
    /* A root service's jail must be on a file system that takes
     * idmapped mounts (virtuald(8)), and vhostctl's checks say so where
     * it is not: where /run/vhtest is on another (the overlay of a
     * fresh-ci chroot), this process gets a private tmpfs there, as
     * tests/integration/lib.sh does for each script. */
    struct statfs sf;
    if (statfs("/run/vhtest", &sf) == 0 && sf.f_type != TMPFS_MAGIC && sf.f_type != EXT4_SUPER_MAGIC &&
        sf.f_type != XFS_SUPER_MAGIC && sf.f_type != BTRFS_SUPER_MAGIC) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("vhtest", "/run/vhtest", "tmpfs", 0, "mode=0755,size=2g") < 0)
            return -1;
    }
    snprintf(unit_dir, sizeof unit_dir, "/run/vhtest/unit-%s.%d", name, (int)getpid());
    if (mkdir(unit_dir, 0755) < 0)
        return -1;
    chmod(unit_dir, 0755);
    return 0;
}

void unit_fixture_remove(void)
{
    char cmd[300];
    if (!unit_dir[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", unit_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", unit_dir);
}

int unit_teardown(void **state)
{
    (void)state;
    unit_fixture_remove();
    return 0;
}

const char *unit_path(const char *rel)
{
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", unit_dir, rel);
    return buf[i];
}

/* ---- files and commands -------------------------------------------- */

void unit_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd)
        fail_msg("command too long: %s", cmd);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

void unit_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    fchmod(fd, mode);
    close(fd);
}

/* ---- the database -------------------------------------------------- */

sqlite3 *unit_mem_db(void)
{
    sqlite3 *db = NULL;
    vh_err e;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    if (vh_migrate(db, NULL, NULL, &e) < 0)
        fail_msg("migrate: %s", e.msg);
    return db;
}

sqlite3 *unit_file_db(const char *path)
{
    sqlite3 *db = NULL;
    vh_err e;
    if (vh_dbadmin_open(path, 1, &db, &e) < 0 || vh_migrate(db, NULL, NULL, &e) < 0)
        fail_msg("%s: %s", path, e.msg);
    return db;
}

void unit_row(vh_row *r, const char *svc, const char *addr, const char *root)
{
    vh_row_init(r);
    snprintf(r->service, sizeof r->service, "%s", svc);
    snprintf(r->address, sizeof r->address, "%s", addr);
    snprintf(r->root, sizeof r->root, "%s", root);
    r->enabled = 1;
}

void unit_row_nobody(vh_row *r)
{
    r->has_user = 1;
    snprintf(r->user, sizeof r->user, "nobody");
    snprintf(r->group, sizeof r->group, "nogroup");
    r->uid = r->gid = 65534;
    r->groups[0] = 65534;
    r->ngroups = 1;
}

void unit_put(sqlite3 *db, const vh_row *r)
{
    vh_err e;
    if (vh_store_add(db, r, &e) < 0)
        fail_msg("add %s %s: %s", r->service, r->address, e.msg);
}

/* ---- findings ------------------------------------------------------ */

void unit_collect(void *ctx, const vh_finding *f)
{
    unit_findings *fs = ctx;
    if (fs->n < UNIT_MAX_FINDINGS) {
        snprintf(fs->at[fs->n].kind, sizeof fs->at[fs->n].kind, "%s", f->kind);
        snprintf(fs->at[fs->n].path, sizeof fs->at[fs->n].path, "%s", f->path ? f->path : "");
        snprintf(fs->at[fs->n].problem, sizeof fs->at[fs->n].problem, "%s", f->problem ? f->problem : "");
        fs->at[fs->n].sev = f->severity;
    }
    fs->n++;
}

void unit_findings_dump(const unit_findings *fs)
{
    for (int i = 0; i < fs->n && i < UNIT_MAX_FINDINGS; i++)
        print_message("  finding %s %s (%d): %s\n", fs->at[i].kind, fs->at[i].path, fs->at[i].sev, fs->at[i].problem);
}

int unit_findings_has(const unit_findings *fs, const char *kind, const char *path)
{
    for (int i = 0; i < fs->n && i < UNIT_MAX_FINDINGS; i++)
        if (strcmp(fs->at[i].kind, kind) == 0 && (!path || strcmp(fs->at[i].path, path) == 0))
            return 1;
    return 0;
}

/* ---- text ---------------------------------------------------------- */

char *unit_export(sqlite3 *db, const char *service, vh_export_stats *st)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    vh_err e;
    vh_export_stats dummy;
    if (vh_export(db, service, f, st ? st : &dummy, &e) < 0)
        fail_msg("export: %s", e.msg);
    fclose(f);
    return text;
}

void unit_text_has(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' not found in:\n%s", needle, text);
}

void unit_text_lacks(const char *text, const char *needle)
{
    if (strstr(text, needle))
        fail_msg("'%s' unexpectedly found in:\n%s", needle, text);
}
