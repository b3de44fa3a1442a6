/* Unit tests of provision.c's writing into a jail (THREATS K9), each a
 * race made deterministic: mknodat and fchown are wrapped at link time
 * (-Wl,--wrap) so that, at the exact instant a racing service would act,
 * the wrapper puts a symlink to a host decoy at the temporary name. Each
 * has its control: the old step by name after the same swap changes the
 * decoy. Plus the refusals: a symlinked or non-directory component, a
 * mount point (tmpfs, a bind mount of the same file system), and a FIFO
 * planted at a target, which is replaced without being opened. Needs
 * root (mknod, chown, mount in a private mount namespace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "elf_builder.h"
#include "unit.h"
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char jail[300], decoy[300], decoydir[300];

/* ---- the racer, at the instant it would act ------------------------ */

static int swap_node, swap_file; /* armed by a test, one shot each */

int __real_mknodat(int dirfd, const char *path, mode_t mode, dev_t dev);
int __real_fchown(int fd, uid_t uid, gid_t gid);

/* Right after the node is made: a symlink to the decoy in its place. */
int __wrap_mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
    int r = __real_mknodat(dirfd, path, mode, dev);
    if (r == 0 && swap_node) {
        swap_node = 0;
        unlinkat(dirfd, path, 0);
        if (symlinkat(decoy, dirfd, path) < 0)
            fail_msg("symlinkat: %s", strerror(errno));
    }
    return r;
}

/* Before the new file's owner is set: its temporary name now a symlink
 * to the decoy (found through /proc, as the fd is all we get). */
int __wrap_fchown(int fd, uid_t uid, gid_t gid)
{
    char link[64], path[PATH_MAX], side[PATH_MAX + 4];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = swap_file ? readlink(link, path, sizeof path - 1) : -1;
    if (n > 0) {
        path[n] = '\0';
        const char *slash = strrchr(path, '/');
        if (slash && strncmp(slash + 1, ".vh-provision.", 14) == 0) {
            swap_file = 0;
            snprintf(side, sizeof side, "%s.s", path);
            if (symlink(decoy, side) < 0 || rename(side, path) < 0)
                fail_msg("swap: %s", strerror(errno));
        }
    }
    return __real_fchown(fd, uid, gid);
}

/* ---- fixture ------------------------------------------------------- */

static int run(vh_err *e)
{
    vh_provision p = {jail, NULL, 0, NULL, 0, NULL, NULL, 0, 0, NULL, NULL};
    return vh_provision_run(&p, e);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        fail_msg("lstat %s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

static int setup(void **state)
{
    (void)state;
    unit_sh("rm -rf %s/jail %s/decoy %s/decoydir", unit_dir, unit_dir, unit_dir);
    unit_sh("mkdir -m 0755 %s/decoydir && echo secret >%s/decoy && chmod 0600 %s/decoy", unit_dir, unit_dir, unit_dir);
    vh_err e;
    if (run(&e) < 0)
        fail_msg("provision: %s", e.msg);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (unit_fixture("provision") < 0) {
        fprintf(stderr, "test_provision needs root (mknod, chown, mount)\n");
        return -1;
    }
    /* Mounts made by the tests stay in a namespace of our own. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    snprintf(jail, sizeof jail, "%s/jail", unit_dir);
    snprintf(decoy, sizeof decoy, "%s/decoy", unit_dir);
    snprintf(decoydir, sizeof decoydir, "%s/decoydir", unit_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unit_fixture_remove();
    return 0;
}

/* ---- the races, made deterministic --------------------------------- */

static void test_device_swapped(void **state)
{
    (void)state;
    unlink(unit_path("jail/dev/null"));
    swap_node = 1;
    vh_err e;
    assert_int_equal(run(&e), -1);
    assert_non_null(strstr(e.msg, "dev/null changed while provision made it"));
    assert_int_equal(mode_of(decoy), 0600);
    /* the symlink at the temporary name is gone, nothing put in place */
    struct stat st;
    assert_int_equal(lstat(unit_path("jail/dev/null"), &st), -1);
    unit_sh("test -z \"$(ls -A %s/jail/dev | grep vh-provision)\"", unit_dir);
    /* again, the racer gone: the node is made */
    assert_int_equal(run(&e), 0);
    assert_int_equal(lstat(unit_path("jail/dev/null"), &st), 0);
    assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) && (st.st_mode & 07777) == 0666);
}

/* Control: the old install_device after the same swap. */
static void test_device_swapped_control(void **state)
{
    (void)state;
    int dfd = open(unit_path("jail/dev"), O_PATH | O_DIRECTORY);
    assert_true(dfd >= 0);
    swap_node = 1;
    assert_int_equal(mknodat(dfd, ".vh-provision.old", S_IFCHR | 0600, makedev(1, 3)), 0);
    assert_int_equal(fchmodat(dfd, ".vh-provision.old", 0666, 0), 0);
    assert_int_equal(mode_of(decoy), 0666);
    close(dfd);
}

static void test_file_swapped(void **state)
{
    (void)state;
    unit_sh("chmod 0600 %s/jail/etc/passwd", unit_dir); /* to be rewritten */
    swap_file = 1;
    vh_err e;
    run(&e);                        /* whatever it says: the decoy is what matters */
    assert_int_equal(swap_file, 0); /* the swap happened */
    assert_int_equal(mode_of(decoy), 0600);
    unit_sh("test \"$(cat %s/decoy)\" = secret", unit_dir);
    /* What the racer left at /etc/passwd (its symlink, put in place by
     * the rename) is refused on the next run, not read through. */
    assert_int_equal(run(&e), -1);
    assert_non_null(strstr(e.msg, "jail/etc/passwd is a symbolic link"));
    unit_sh("test \"$(cat %s/decoy)\" = secret", unit_dir);
    /* racer gone, its symlink removed: /etc/passwd is a regular file again */
    unit_sh("rm %s/jail/etc/passwd", unit_dir);
    assert_int_equal(run(&e), 0);
    struct stat st;
    assert_int_equal(lstat(unit_path("jail/etc/passwd"), &st), 0);
    assert_true(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
}

/* Control: a chmod by the temporary name after the same swap. */
static void test_file_swapped_control(void **state)
{
    (void)state;
    int dfd = open(unit_path("jail/etc"), O_PATH | O_DIRECTORY);
    assert_true(dfd >= 0);
    int fd = openat(dfd, ".vh-provision.old", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    assert_true(fd >= 0);
    swap_file = 1;
    assert_int_equal(fchown(fd, 0, 0), 0);
    assert_int_equal(fchmodat(dfd, ".vh-provision.old", 0644, 0), 0);
    assert_int_equal(mode_of(decoy), 0644);
    close(fd);
    close(dfd);
}

/* ---- refusals ------------------------------------------------------ */

static void test_symlinked_dir(void **state)
{
    (void)state;
    unit_sh("rm -rf %s/jail/etc && ln -s %s/decoydir %s/jail/etc", unit_dir, unit_dir, unit_dir);
    vh_err e;
    assert_int_equal(run(&e), -1);
    assert_non_null(strstr(e.msg, "jail/etc is a symbolic link: provision follows no link inside a jail"));
    unit_sh("test -z \"$(ls -A %s/decoydir)\"", unit_dir);
    /* control: the same path written by name lands in the decoy dir */
    unit_sh("echo x >%s/jail/etc/passwd && test -f %s/decoydir/passwd", unit_dir, unit_dir);
}

static void test_not_a_dir(void **state)
{
    (void)state;
    unit_sh("rm -rf %s/jail/dev && touch %s/jail/dev", unit_dir, unit_dir);
    vh_err e;
    assert_int_equal(run(&e), -1);
    assert_non_null(strstr(e.msg, "jail/dev is not a directory - remove it"));
}

static void test_mount_tmpfs(void **state)
{
    (void)state;
    unit_sh("rm -f %s/jail/etc/passwd %s/jail/etc/group", unit_dir, unit_dir);
    assert_int_equal(mount("k9", unit_path("jail/etc"), "tmpfs", 0, "mode=0755"), 0);
    vh_err e;
    int r = run(&e);
    unit_sh("test -z \"$(ls -A %s/jail/etc)\"", unit_dir);
    umount2(unit_path("jail/etc"), MNT_DETACH);
    assert_int_equal(r, -1);
    assert_non_null(strstr(e.msg, "jail/etc is a mount point inside the jail"));
}

/* The same file system bound in: only the mount id tells it apart. */
static void test_mount_bind_same_fs(void **state)
{
    (void)state;
    assert_int_equal(mount(decoydir, unit_path("jail/dev"), NULL, MS_BIND, NULL), 0);
    struct stat a, b;
    assert_int_equal(stat(jail, &a), 0);
    assert_int_equal(stat(unit_path("jail/dev"), &b), 0);
    assert_true(a.st_dev == b.st_dev);
    unlink(unit_path("jail/dev/null"));
    vh_err e;
    int r = run(&e);
    unit_sh("test -z \"$(ls -A %s/decoydir)\"", unit_dir);
    umount2(unit_path("jail/dev"), MNT_DETACH);
    assert_int_equal(r, -1);
    assert_non_null(strstr(e.msg, "jail/dev is a mount point inside the jail"));
}

/* A FIFO at /etc/group (which provision reads now, issue 14) is refused
 * without being opened (opening it would block provision, or wake
 * whoever waits on it), and left as it is. */
static void test_fifo_refused(void **state)
{
    (void)state;
    unit_sh("rm -f %s/jail/etc/group && mkfifo -m 0644 %s/jail/etc/group", unit_dir, unit_dir);
    vh_err e;
    assert_int_equal(run(&e), -1);
    assert_non_null(strstr(e.msg, "jail/etc/group is not a regular file (a FIFO"));
    struct stat st;
    assert_int_equal(lstat(unit_path("jail/etc/group"), &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
}

/* ---- the jail's accounts are merged (issue 14) --------------------- */

static vh_row mkuser(const char *user, const char *group, uint32_t uid, uint32_t gid)
{
    vh_row r;
    memset(&r, 0, sizeof r);
    r.has_user = 1;
    snprintf(r.user, sizeof r.user, "%s", user);
    snprintf(r.group, sizeof r.group, "%s", group);
    r.uid = uid;
    r.gid = gid;
    return r;
}

static int run_users(const vh_row *users, int n, vh_err *e)
{
    vh_provision p = {jail, NULL, 0, users, n, NULL, NULL, 0, 0, NULL, NULL};
    return vh_provision_run(&p, e);
}

/* Another service's accounts, as a jail that serves two holds them. */
static void other_service(void)
{
    unit_sh("printf 'root:x:0:0:root:/:/nonexistent\\nsvcb:x:1500:1500:B:/home/b:/bin/sh\\n' >%s/jail/etc/passwd",
            unit_dir);
    unit_sh("printf 'root:x:0:\\nsvcb:x:1500:\\n' >%s/jail/etc/group", unit_dir);
}

static void test_merge_add(void **state)
{
    (void)state;
    other_service();
    vh_row u[] = {mkuser("weba", "webg", 1600, 1601), mkuser("webc", "webg", 1602, 1601)};
    vh_err e;
    if (run_users(u, 2, &e) < 0)
        fail_msg("provision: %s", e.msg);
    unit_sh(
        "test \"$(cat %s/jail/etc/passwd)\" = \"$(printf 'root:x:0:0:root:/:/nonexistent\\nsvcb:x:1500:1500:B:/home/"
        "b:/bin/sh\\nweba:x:1600:1601::/:/nonexistent\\nwebc:x:1602:1601::/:/nonexistent')\"",
        unit_dir);
    unit_sh("test \"$(cat %s/jail/etc/group)\" = \"$(printf 'root:x:0:\\nsvcb:x:1500:\\nwebg:x:1601:')\"", unit_dir);
    /* Again, for one of them: nothing dropped, nothing changed. */
    vh_provision p = {jail, NULL, 0, u, 1, NULL, NULL, 0, 0, NULL, NULL};
    assert_int_equal(vh_provision_run(&p, &e), 0);
    unit_sh("grep -qx 'svcb:x:1500:1500:B:/home/b:/bin/sh' %s/jail/etc/passwd", unit_dir);
    unit_sh("grep -q '^webc:' %s/jail/etc/passwd && grep -qx 'svcb:x:1500:' %s/jail/etc/group", unit_dir, unit_dir);
    assert_int_equal(p.written, 0);
}

/* An entry the jail has with the same ids is kept as the jail has it
 * (its home, shell and members are the jail operator's); a file without
 * a final newline gets one before what is appended; the mode is fixed. */
static void test_merge_keep(void **state)
{
    (void)state;
    unit_sh(
        "printf '# accounts\\n\\nroot:x:0:0:Root:/root:/bin/sh\\nweba:*:1600:1601:A:/w:/bin/false' >%s/jail/etc/passwd"
        " && chmod 0600 %s/jail/etc/passwd",
        unit_dir, unit_dir);
    unit_sh("printf 'root:x:0:\\nwebg:x:1601:weba,svcb\\n' >%s/jail/etc/group", unit_dir);
    vh_row u[] = {mkuser("weba", "webg", 1600, 1601), mkuser("webd", "webd", 1603, 1603)};
    vh_err e;
    if (run_users(u, 2, &e) < 0)
        fail_msg("provision: %s", e.msg);
    unit_sh(
        "test \"$(cat %s/jail/etc/passwd)\" = \"$(printf '# accounts\\n\\nroot:x:0:0:Root:/root:/bin/sh\\nweba:*:1600:"
        "1601:A:/w:/bin/false\\nwebd:x:1603:1603::/:/nonexistent')\"",
        unit_dir);
    unit_sh("test \"$(cat %s/jail/etc/group)\" = \"$(printf 'root:x:0:\\nwebg:x:1601:weba,svcb\\nwebd:x:1603:')\"",
            unit_dir);
    assert_int_equal(mode_of(unit_path("jail/etc/passwd")), 0644);
}

/* A failed run changes nothing: not the account files, not /dev. */
static void assert_untouched(const char *sums)
{
    unit_sh("test \"$(cd %s/jail/etc && sha256sum passwd group)\" = '%s'", unit_dir, sums);
    struct stat st;
    assert_int_equal(lstat(unit_path("jail/dev/null"), &st), -1);
}

static void conflict(const char *passwd, const char *group, const char *want)
{
    unit_sh("printf '%s' >%s/jail/etc/passwd && printf '%s' >%s/jail/etc/group && rm -f %s/jail/dev/null", passwd,
            unit_dir, group, unit_dir, unit_dir);
    char sums[1024], cmd[700];
    snprintf(cmd, sizeof cmd, "cd %s/jail/etc && sha256sum passwd group", unit_dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(sums, 1, sizeof sums - 1, f);
    pclose(f);
    while (n && sums[n - 1] == '\n')
        n--;
    sums[n] = '\0';
    vh_row u[] = {mkuser("weba", "webg", 1600, 1601)};
    vh_err e;
    assert_int_equal(run_users(u, 1, &e), -1);
    if (!strstr(e.msg, want))
        fail_msg("message: %s\nwanted: %s", e.msg, want);
    assert_untouched(sums);
}

static void test_conflict_same_name(void **state)
{
    (void)state;
    conflict("root:x:0:0::/:/bin/sh\\nweba:x:1700:1601::/:/bin/sh\\n", "root:x:0:\\n",
             "jail/etc/passwd: line 2 of the jail's /etc/passwd 'weba:x:1700:1601::/:/bin/sh' conflicts with "
             "--user weba's entry 'weba' (uid 1600, gid 1601) (same name, another uid or gid)");
}

static void test_conflict_same_id(void **state)
{
    (void)state;
    conflict("root:x:0:0::/:/bin/sh\\n", "root:x:0:\\nsvcb:x:1601:\\n",
             "jail/etc/group: line 2 of the jail's /etc/group 'svcb:x:1601:' conflicts with --user weba's group "
             "'webg' (gid 1601) (same gid, another name)");
}

static void test_conflict_root(void **state)
{
    (void)state;
    conflict("root:x:5:0::/:/bin/sh\\n", "root:x:0:\\n", "(same name, another uid or gid)");
}

static void test_malformed(void **state)
{
    (void)state;
    conflict("root:x:0:0::/:/bin/sh\\nsvcb:x:15x0:1500::/:/bin/sh\\n", "root:x:0:\\n",
             "jail/etc/passwd line 2 is malformed (a uid or gid that is not a number below 4294967295): "
             "'svcb:x:15x0:1500::/:/bin/sh' - provision drops no line");
    conflict("root:x:0:0::/:/bin/sh\\n", "root:x:0:\\n+svcb\\n", "jail/etc/group line 2 is malformed (not 4 fields");
    conflict("root:x:0:0::/:/bin/sh:extra\\n", "root:x:0:\\n", "jail/etc/passwd line 1 is malformed (more than 7");
}

static void test_oversize(void **state)
{
    (void)state;
    unit_sh("rm %s/jail/dev/null && truncate -s 2M %s/jail/etc/passwd", unit_dir, unit_dir);
    vh_err e;
    assert_int_equal(run(&e), -1);
    assert_non_null(strstr(e.msg, "jail/etc/passwd is 2097152 bytes, more than provision reads (1048576)"));
    struct stat st;
    assert_int_equal(lstat(unit_path("jail/dev/null"), &st), -1);
    assert_int_equal(lstat(unit_path("jail/etc/passwd"), &st), 0);
    assert_int_equal(st.st_size, 2097152);
}

/* /etc/passwd a hard link to a host file (a racer with a descriptor of
 * one can make it, THREATS K9): refused, its lines never copied. */
static void test_hardlinked_passwd(void **state)
{
    (void)state;
    unit_sh("printf 'root:x:0:0::/:/bin/sh\\nsecret:x:7:7::/:/bin/sh\\n' >%s/decoy", unit_dir);
    unit_sh("rm %s/jail/etc/passwd && ln %s %s/jail/etc/passwd", unit_dir, decoy, unit_dir);
    vh_err e;
    assert_int_equal(run(&e), -1);
    assert_non_null(
        strstr(e.msg, "jail/etc/passwd has 2 hard links: provision reads no file that may also be outside"));
    unit_sh("test \"$(cat %s/decoy)\" = \"$(printf 'root:x:0:0::/:/bin/sh\\nsecret:x:7:7::/:/bin/sh')\"", unit_dir);
    unit_sh("rm %s/jail/etc/passwd", unit_dir);
    assert_int_equal(run(&e), 0);
    unit_sh("! grep -q secret %s/jail/etc/passwd", unit_dir);
}

/* /etc/passwd a symlink to a host file: refused, not read, not followed. */
static void test_symlinked_passwd(void **state)
{
    (void)state;
    unit_sh("printf 'root:x:0:0::/:/bin/sh\\nsecret:x:7:7::/:/bin/sh\\n' >%s/decoy", unit_dir);
    unit_sh("rm %s/jail/etc/passwd && ln -s %s %s/jail/etc/passwd", unit_dir, decoy, unit_dir);
    vh_err e;
    assert_int_equal(run(&e), -1);
    assert_non_null(strstr(e.msg, "jail/etc/passwd is a symbolic link: provision reads no link inside a jail"));
    struct stat st;
    assert_int_equal(lstat(unit_path("jail/etc/passwd"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    unit_sh("test \"$(cat %s/decoy)\" = \"$(printf 'root:x:0:0::/:/bin/sh\\nsecret:x:7:7::/:/bin/sh')\"", unit_dir);
    /* removed, as the message says: a new one, the decoy's lines not in it */
    unit_sh("rm %s/jail/etc/passwd", unit_dir);
    assert_int_equal(run(&e), 0);
    unit_sh("test \"$(cat %s/jail/etc/passwd)\" = root:x:0:0:root:/:/nonexistent", unit_dir);
}

/* A library found through $ORIGIN/../lib: its path holds "..", which
 * the walk (no ".." component ever opened) resolves by name. */
static void test_origin_dotdot(void **state)
{
    (void)state;
    static unsigned char img[4096];
    struct eb_layout L;
    unit_sh("mkdir -p %s/host/app/bin %s/host/app/lib", unit_dir, unit_dir);
    struct eb prog = {.is64 = 1, .machine = 62, .needed = {"libx.so"}, .nneeded = 1, .runpath = "$ORIGIN/../lib"};
    unit_write_file(unit_path("host/app/bin/prog"), img, eb_build(&prog, img, sizeof img, &L), 0755);
    struct eb lib = {.is64 = 1, .machine = 62};
    unit_write_file(unit_path("host/app/lib/libx.so"), img, eb_build(&lib, img, sizeof img, &L), 0644);
    const char *progs[] = {unit_path("host/app/bin/prog")};
    vh_provision p = {jail, progs, 1, NULL, 0, NULL, NULL, 0, 0, NULL, NULL};
    vh_err e;
    if (vh_provision_run(&p, &e) < 0)
        fail_msg("provision: %s", e.msg);
    char in[600];
    snprintf(in, sizeof in, "%s%s/host/app/lib/libx.so", jail, unit_dir);
    struct stat st;
    assert_int_equal(lstat(in, &st), 0);
    assert_true(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
}

/* Issue 14 point 4: what provision reports for the manifest - each
 * regular file copied from the host, with its kind, the request that
 * brought it and the bytes written; never configuration written only
 * where the jail has none. A second run reports them again (verified in
 * place). */
struct copies {
    int n;
    char line[8][700];
};

static void on_copied(void *ctx, const vh_prov_copied *c)
{
    struct copies *k = ctx;
    if (k->n == 8)
        fail_msg("more copies reported than expected: %s", c->in);
    snprintf(k->line[k->n], sizeof k->line[k->n], "%s|%s|%s|%s|%04o|%zu", c->in, c->host, c->kind, c->source, c->mode,
             c->len);
    if (strcmp(c->kind, "file") == 0 && (c->len != 5 || memcmp(c->data, "data\n", 5) != 0))
        fail_msg("the bytes reported for %s are not the file's", c->in);
    k->n++;
}

static int by_line(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_copied_manifest(void **state)
{
    (void)state;
    static unsigned char img[4096];
    struct eb_layout L;
    unit_sh("mkdir -p %s/host/app/bin %s/host/app/lib", unit_dir, unit_dir);
    struct eb prog = {.is64 = 1, .machine = 62, .needed = {"libx.so"}, .nneeded = 1, .runpath = "$ORIGIN/../lib"};
    size_t plen = eb_build(&prog, img, sizeof img, &L);
    unit_write_file(unit_path("host/app/bin/prog"), img, plen, 0755);
    struct eb lib = {.is64 = 1, .machine = 62};
    unit_write_file(unit_path("host/app/lib/libx.so"), img, eb_build(&lib, img, sizeof img, &L), 0644);
    unit_write_file(unit_path("host/app/data.txt"), "data\n", 5, 0644);
    const char *progs[] = {unit_path("host/app/bin/prog")};
    const char *files[] = {unit_path("host/app/data.txt")};
    vh_prov_skel skel = {"/etc/app.conf", 0644, "x=1\n", 4};
    vh_prov_more more = {files, 1, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, 0, &skel, 1};
    struct copies k = {0};
    vh_provision p = {jail, progs, 1, NULL, 0, NULL, &k, 0, 0, &more, on_copied};
    vh_err e;
    for (int run = 0; run < 2; run++) {
        memset(&k, 0, sizeof k);
        if (vh_provision_run(&p, &e) < 0)
            fail_msg("provision: %s", e.msg);
        assert_int_equal(k.n, 3);
        qsort(k.line, (size_t)k.n, sizeof k.line[0], by_line);
        char want[3][700];
        snprintf(want[0], sizeof want[0],
                 "%s/host/app/bin/prog|%s/host/app/bin/prog|program|program %s/host/app/bin/prog|0755|%zu", unit_dir,
                 unit_dir, unit_dir, plen);
        snprintf(want[1], sizeof want[1], "%s/host/app/bin/../lib/libx.so", unit_dir);
        snprintf(want[2], sizeof want[2],
                 "%s/host/app/data.txt|%s/host/app/data.txt|file|file %s/host/app/data.txt|0644|5", unit_dir, unit_dir,
                 unit_dir);
        assert_string_equal(k.line[0], want[0]);
        /* the library: in the jail where the kernel finds it, from the host path the search found */
        char in[700];
        snprintf(in, sizeof in, "%s/host/app/lib/libx.so|%s|library|program %s/host/app/bin/prog|0644|", unit_dir,
                 want[1], unit_dir);
        if (strncmp(k.line[2], in, strlen(in)) != 0) /* sorted: bin/prog, data.txt, lib/libx.so */
            fail_msg("library line: %s, want %s...", k.line[2], in);
        assert_string_equal(k.line[1], want[2]);
    }
    /* the configuration skeleton was written, and is not in the manifest */
    struct stat st;
    char conf[600];
    snprintf(conf, sizeof conf, "%s/etc/app.conf", jail);
    assert_int_equal(lstat(conf, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_device_swapped, setup),
        cmocka_unit_test_setup(test_device_swapped_control, setup),
        cmocka_unit_test_setup(test_file_swapped, setup),
        cmocka_unit_test_setup(test_file_swapped_control, setup),
        cmocka_unit_test_setup(test_symlinked_dir, setup),
        cmocka_unit_test_setup(test_not_a_dir, setup),
        cmocka_unit_test_setup(test_mount_tmpfs, setup),
        cmocka_unit_test_setup(test_mount_bind_same_fs, setup),
        cmocka_unit_test_setup(test_fifo_refused, setup),
        cmocka_unit_test_setup(test_origin_dotdot, setup),
        cmocka_unit_test_setup(test_merge_add, setup),
        cmocka_unit_test_setup(test_merge_keep, setup),
        cmocka_unit_test_setup(test_conflict_same_name, setup),
        cmocka_unit_test_setup(test_conflict_same_id, setup),
        cmocka_unit_test_setup(test_conflict_root, setup),
        cmocka_unit_test_setup(test_malformed, setup),
        cmocka_unit_test_setup(test_oversize, setup),
        cmocka_unit_test_setup(test_symlinked_passwd, setup),
        cmocka_unit_test_setup(test_hardlinked_passwd, setup),
        cmocka_unit_test_setup(test_copied_manifest, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
