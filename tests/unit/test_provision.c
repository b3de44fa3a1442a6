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
    vh_provision p = {jail, NULL, 0, NULL, NULL, NULL, 0, 0};
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
    unit_sh("echo changed >>%s/jail/etc/passwd", unit_dir);
    swap_file = 1;
    vh_err e;
    run(&e);                        /* whatever it says: the decoy is what matters */
    assert_int_equal(swap_file, 0); /* the swap happened */
    assert_int_equal(mode_of(decoy), 0600);
    unit_sh("test \"$(cat %s/decoy)\" = secret", unit_dir);
    /* racer gone: /etc/passwd is a regular file again */
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

/* A FIFO at a target is replaced without being opened (opening it
 * would block provision, or wake whoever waits on it). */
static void test_fifo_replaced(void **state)
{
    (void)state;
    unit_sh("rm -f %s/jail/etc/group && mkfifo -m 0644 %s/jail/etc/group", unit_dir, unit_dir);
    vh_err e;
    assert_int_equal(run(&e), 0);
    struct stat st;
    assert_int_equal(lstat(unit_path("jail/etc/group"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
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
    vh_provision p = {jail, progs, 1, NULL, NULL, NULL, 0, 0};
    vh_err e;
    if (vh_provision_run(&p, &e) < 0)
        fail_msg("provision: %s", e.msg);
    char in[600];
    snprintf(in, sizeof in, "%s%s/host/app/lib/libx.so", jail, unit_dir);
    struct stat st;
    assert_int_equal(lstat(in, &st), 0);
    assert_true(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_device_swapped, setup), cmocka_unit_test_setup(test_device_swapped_control, setup),
        cmocka_unit_test_setup(test_file_swapped, setup),   cmocka_unit_test_setup(test_file_swapped_control, setup),
        cmocka_unit_test_setup(test_symlinked_dir, setup),  cmocka_unit_test_setup(test_not_a_dir, setup),
        cmocka_unit_test_setup(test_mount_tmpfs, setup),    cmocka_unit_test_setup(test_mount_bind_same_fs, setup),
        cmocka_unit_test_setup(test_fifo_replaced, setup),  cmocka_unit_test_setup(test_origin_dotdot, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
