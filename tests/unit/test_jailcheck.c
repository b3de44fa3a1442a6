/* Unit tests of jailcheck.c, deps.c and provision.c on real fixture
 * jails under /run/vhtest (root-owned 0755: the trust rules hold in
 * tests too). Each planted problem must give exactly its finding; a
 * provisioned jail must give none. Needs root (mknod, chown, mount in a
 * private mount namespace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "elf_builder.h"
#include "jailcheck.h"
#include "path.h"
#include "provision.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

static char jail[300]; /* unit_dir/jail: provisioned with cat before each test */

static unit_findings got; /* the last run's */

/* jp("/etc") -> "<jail>/etc", in unit_path's buffers */
static const char *jp(const char *rel)
{
    char in[512];
    snprintf(in, sizeof in, "jail%s", rel);
    return unit_path(in);
}

static vh_row row_for(const char *root, int has_user)
{
    vh_row r;
    unit_row(&r, "www", "127.0.0.2", root);
    if (has_user)
        unit_row_nobody(&r);
    return r;
}

/* Run the check; returns the worst severity. */
static int run(const vh_row *r, const char *const *progs, int nprogs, int identity, int deep)
{
    got.n = 0;
    vh_jailcheck jc = {"www/127.0.0.2", r, progs, nprogs, identity, deep, 0, 0};
    return vh_jailcheck_run(&jc, unit_collect, &got);
}

static void expect_only(const char *kind, const char *path, int sev)
{
    if (got.n != 1 || strcmp(got.at[0].kind, kind) != 0 || (path && strcmp(got.at[0].path, path) != 0) ||
        got.at[0].sev != sev) {
        unit_findings_dump(&got);
        fail_msg("expected exactly one finding %s at %s, got %d", kind, path ? path : "(any)", got.n);
    }
}

static int has(const char *kind, const char *path)
{
    return unit_findings_has(&got, kind, path);
}

static void provision_cat(void)
{
    const char *progs[] = {"/usr/bin/cat"};
    vh_row u = row_for(jail, 1);
    vh_provision p = {jail, progs, 1, &u, 1, NULL, NULL, 0, 0, NULL, NULL};
    vh_err e;
    if (vh_provision_run(&p, &e) < 0)
        fail_msg("provision: %s", e.msg);
}

static int setup(void **state)
{
    (void)state;
    unit_sh("rm -rf %s/jail %s/out; mkdir -m 0755 %s/out", unit_dir, unit_dir, unit_dir);
    provision_cat();
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        fprintf(stderr, "test_jailcheck needs root (mknod, chown, mount)\n");
        return -1;
    }
    /* Mounts made by the tests stay in a namespace of our own. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    if (unit_fixture("jailcheck") < 0)
        return -1;
    snprintf(jail, sizeof jail, "%s/jail", unit_dir);
    /* 0700: host users cannot reach the jails below (K7) */
    unit_sh("chmod 0700 %s", unit_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    umount2(jp("/proc"), MNT_DETACH);
    unit_fixture_remove();
    return 0;
}

/* ---- a clean jail ------------------------------------------------- */

static void test_provisioned_is_clean(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    const char *progs[] = {"cat", "/usr/bin/cat"};
    int worst = run(&r, progs, 2, 0, 1);
    if (got.n)
        unit_findings_dump(&got);
    assert_int_equal(got.n, 0);
    assert_int_equal(worst, 0);
    /* the identity of a real host user, unchanged: still nothing */
    run(&r, progs, 2, 1, 1);
    assert_int_equal(got.n, 0);
}

static void test_provision_idempotent(void **state)
{
    (void)state;
    const char *progs[] = {"/usr/bin/cat"};
    vh_row u = row_for(jail, 1);
    vh_provision p = {jail, progs, 1, &u, 1, NULL, NULL, 0, 0, NULL, NULL};
    vh_err e;
    assert_int_equal(vh_provision_run(&p, &e), 0);
    assert_int_equal(p.written, 0);
    assert_true(p.unchanged >= 8);
    /* a planted symlink at a target is replaced, not followed */
    unit_sh("echo host > %s/out/victim; rm %s; ln -s %s/out/victim %s", unit_dir, jp("/usr/bin/cat"), unit_dir,
            jp("/usr/bin/cat"));
    assert_int_equal(vh_provision_run(&p, &e), 0);
    assert_int_equal(p.written, 1);
    struct stat st;
    assert_int_equal(lstat(jp("/usr/bin/cat"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unit_sh("grep -qx host %s/out/victim", unit_dir);
    /* at /etc/passwd, which provision reads to merge (issue 14): refused,
     * neither read nor followed */
    unit_sh("rm %s; ln -s %s/out/victim %s", jp("/etc/passwd"), unit_dir, jp("/etc/passwd"));
    assert_int_equal(vh_provision_run(&p, &e), -1);
    assert_non_null(strstr(e.msg, "/etc/passwd is a symbolic link: provision reads no link inside a jail"));
    unit_sh("grep -qx host %s/out/victim", unit_dir);
    unit_sh("rm %s", jp("/etc/passwd"));
    assert_int_equal(vh_provision_run(&p, &e), 0);
    unit_sh("grep -q '^nobody:x:65534:65534:' %s", jp("/etc/passwd"));
    unit_sh("test $(wc -l < %s) = 2", jp("/etc/group"));
}

static void test_provision_refuses_tenant_dir(void **state)
{
    (void)state;
    const char *progs[] = {"/usr/bin/cat"};
    unit_sh("rm -rf %s; mkdir -m 0755 %s; chown nobody %s", jp("/usr/bin"), jp("/usr/bin"), jp("/usr/bin"));
    vh_provision p = {jail, progs, 1, NULL, 0, NULL, NULL, 0, 0, NULL, NULL};
    vh_err e;
    assert_int_equal(vh_provision_run(&p, &e), -1);
    assert_non_null(strstr(e.msg, "/usr/bin is owned by uid 65534"));
    /* and a jail whose own path is unsafe is not touched at all */
    unit_sh("chmod g+w %s", jail);
    assert_int_equal(vh_provision_run(&p, &e), -1);
    assert_non_null(strstr(e.msg, "writable by group"));
}

static void test_provision_parent_must_be_trusted(void **state)
{
    (void)state;
    char root[300];
    snprintf(root, sizeof root, "%s/out/new", unit_dir);
    unit_sh("chmod o+w %s/out", unit_dir);
    const char *progs[] = {"/usr/bin/cat"};
    vh_provision p = {root, progs, 1, NULL, 0, NULL, NULL, 0, 0, NULL, NULL};
    vh_err e;
    assert_int_equal(vh_provision_run(&p, &e), -1);
    assert_non_null(strstr(e.msg, "parent is not trusted"));
    assert_int_equal(access(root, F_OK), -1);
    unit_sh("chmod o-w %s/out", unit_dir);
    const char *rel[] = {"cat"};
    vh_provision q = {root, rel, 1, NULL, 0, NULL, NULL, 0, 0, NULL, NULL};
    assert_int_equal(vh_provision_run(&q, &e), -1);
    assert_non_null(strstr(e.msg, "absolute path"));
}

/* ---- the deep scan ------------------------------------------------ */

static void test_setuid_setgid(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    unit_sh("cp %s %s; chmod 4755 %s", jp("/usr/bin/cat"), jp("/usr/bin/su"), jp("/usr/bin/su"));
    assert_int_equal(run(&r, NULL, 0, 0, 1), VH_SEV_ERROR);
    expect_only("setuid", jp("/usr/bin/su"), VH_SEV_ERROR);
    unit_sh("chmod 2755 %s", jp("/usr/bin/su"));
    run(&r, NULL, 0, 0, 1);
    expect_only("setgid", jp("/usr/bin/su"), VH_SEV_ERROR);
    /* set-gid without group x is mandatory locking, not privilege */
    unit_sh("chmod 2644 %s", jp("/usr/bin/su"));
    run(&r, NULL, 0, 0, 1);
    assert_int_equal(got.n, 0);
}

static void test_world_writable_dir(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    unit_sh("mkdir -m 0777 %s; chmod 0777 %s", jp("/tmp"), jp("/tmp"));
    run(&r, NULL, 0, 0, 1);
    expect_only("world-writable-dir", jp("/tmp"), VH_SEV_ERROR);
    unit_sh("chmod 1777 %s", jp("/tmp"));
    assert_int_equal(run(&r, NULL, 0, 0, 1), 0);
}

static void test_devices(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    assert_int_equal(mknod(jp("/dev/loop0"), S_IFBLK | 0600, makedev(7, 0)), 0);
    run(&r, NULL, 0, 0, 1);
    expect_only("device", jp("/dev/loop0"), VH_SEV_ERROR);
    unlink(jp("/dev/loop0"));
    assert_int_equal(mknod(jp("/dev/mem"), S_IFCHR | 0600, makedev(1, 1)), 0);
    run(&r, NULL, 0, 0, 1);
    expect_only("device", jp("/dev/mem"), VH_SEV_ERROR);
    unlink(jp("/dev/mem"));
    /* the harmless ones, whatever their names */
    assert_int_equal(mknod(jp("/dev/tty"), S_IFCHR | 0666, makedev(5, 0)), 0);
    assert_int_equal(mknod(jp("/dev/full"), S_IFCHR | 0666, makedev(1, 7)), 0);
    assert_int_equal(mknod(jp("/dev/random"), S_IFCHR | 0666, makedev(1, 8)), 0);
    assert_int_equal(run(&r, NULL, 0, 0, 1), 0);
    assert_true(vh_jailcheck_device_ok(1, 3));
    assert_false(vh_jailcheck_device_ok(1, 2));
    assert_false(vh_jailcheck_device_ok(5, 1));
    assert_false(vh_jailcheck_device_ok(4, 0));
}

static void test_hard_links(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    char outside[300];
    snprintf(outside, sizeof outside, "%s/out/secret", unit_dir);
    unit_sh("echo secret > %s; ln %s %s", outside, outside, jp("/etc/secret"));
    run(&r, NULL, 0, 0, 1);
    expect_only("hard-link", jp("/etc/secret"), VH_SEV_ERROR);
    /* both links inside: fine */
    unit_sh("rm %s; mkdir -p %s; echo a > %s/a; ln %s/a %s/b", jp("/etc/secret"), jp("/www"), jp("/www"), jp("/www"),
            jp("/www"));
    assert_int_equal(run(&r, NULL, 0, 0, 1), 0);
}

static void test_socket(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", jp("/sock"));
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(run(&r, NULL, 0, 0, 1), VH_SEV_WARNING);
    expect_only("socket", jp("/sock"), VH_SEV_WARNING);
    close(s);
}

static void test_capabilities(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    unit_sh("cp %s %s", jp("/usr/bin/cat"), jp("/usr/bin/ping"));
    /* struct vfs_cap_data, revision 2: cap_net_raw (13) permitted+effective */
    uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
    if (setxattr(jp("/usr/bin/ping"), "security.capability", cap, sizeof cap, 0) < 0)
        fail_msg("setxattr security.capability: %s", strerror(errno));
    run(&r, NULL, 0, 0, 1);
    expect_only("capabilities", jp("/usr/bin/ping"), VH_SEV_ERROR);
}

static void test_runas_writable(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    unit_sh("chown nobody %s", jp("/usr/bin/cat"));
    assert_int_equal(run(&r, NULL, 0, 0, 1), VH_SEV_WARNING);
    expect_only("runas-writable", jp("/usr/bin/cat"), VH_SEV_WARNING);
    /* a root service: not a run-as finding, but the file belongs to a
     * tenant (uid nobody) and root runs it: an error (issue 13 point 3) */
    vh_row root = row_for(jail, 0);
    assert_int_equal(run(&root, NULL, 0, 0, 1), VH_SEV_ERROR);
    expect_only("tenant-writable", jp("/usr/bin/cat"), VH_SEV_ERROR);
    /* data outside the code directories may belong to the tenant */
    unit_sh("chown root %s; mkdir -p %s; chown nobody %s", jp("/usr/bin/cat"), jp("/www"), jp("/www"));
    assert_int_equal(run(&r, NULL, 0, 0, 1), 0);
    /* group-writable by the user's group in lib/ */
    unit_sh("chgrp nogroup %s; chmod g+w %s", jp("/lib"), jp("/lib"));
    run(&r, NULL, 0, 0, 1);
    expect_only("runas-writable", jp("/lib"), VH_SEV_WARNING);
}

/* A11: a directory on PATH writable by others than root is an error,
 * for run-as and root services alike. */
static void test_path_writable(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1), root = row_for(jail, 0);
    unit_sh("mkdir -p %s; chown nobody %s", jp("/bin"), jp("/bin"));
    assert_int_equal(run(&r, NULL, 0, 0, 1), VH_SEV_ERROR);
    expect_only("path-writable", jp("/bin"), VH_SEV_ERROR);
    assert_int_equal(run(&root, NULL, 0, 0, 1), VH_SEV_ERROR);
    expect_only("path-writable", jp("/bin"), VH_SEV_ERROR);
    unit_sh("chown root %s; chgrp nogroup %s; chmod 0775 %s", jp("/bin"), jp("/usr/bin"), jp("/usr/bin"));
    run(&root, NULL, 0, 0, 1);
    expect_only("path-writable", jp("/usr/bin"), VH_SEV_ERROR);
    /* root-owned and 0755: nothing */
    unit_sh("chgrp root %s; chmod 0755 %s", jp("/usr/bin"), jp("/usr/bin"));
    assert_int_equal(run(&root, NULL, 0, 0, 1), 0);
}

/* Issue 13 point 3: what a root service trusts, others than root can change. */
static void test_tenant_writable(void **state)
{
    (void)state;
    vh_row root = row_for(jail, 0), r = row_for(jail, 1);
    unit_sh("mkdir -p %s; echo x > %s; chown nobody %s", jp("/etc"), jp("/etc/app.conf"), jp("/etc/app.conf"));
    assert_int_equal(run(&root, NULL, 0, 0, 1), VH_SEV_ERROR);
    expect_only("tenant-writable", jp("/etc/app.conf"), VH_SEV_ERROR);
    /* root-owned but writable by others: an error only when a run-as
     * domain shares the jail (alone, nobody but root reaches it, K7) */
    unit_sh("chown root %s; chmod 0666 %s", jp("/etc/app.conf"), jp("/etc/app.conf"));
    assert_int_equal(run(&root, NULL, 0, 0, 1), 0);
    got.n = 0;
    vh_jailcheck jc = {"www/127.0.0.2", &root, NULL, 0, 0, 1, 0, 0};
    vh_jailcheck_more more = {"www/127.0.0.3", NULL};
    assert_int_equal(vh_jailcheck_run_more(&jc, &more, unit_collect, &got), VH_SEV_ERROR);
    expect_only("tenant-writable", jp("/etc/app.conf"), VH_SEV_ERROR);
    if (!strstr(got.at[0].problem, "run-as domain www/127.0.0.3 shares this jail"))
        fail_msg("the sharing domain is not named: %s", got.at[0].problem);
    /* the run-as domain keeps its own finding, a warning */
    run(&r, NULL, 0, 0, 1);
    expect_only("runas-writable", jp("/etc/app.conf"), VH_SEV_WARNING);
    unit_sh("chmod 0644 %s", jp("/etc/app.conf"));
    assert_int_equal(vh_jailcheck_run_more(&jc, &more, unit_collect, &got), 0);
}

/* Issue 13 point 3, code by another name (red-team probe 6): a code
 * directory of the jail's top that is a symlink is judged by its target,
 * resolved inside the jail; and for a root service every program and
 * library the dependency walk finds, wherever it is. */
static void expect_n_tenant(int n, const char *const *paths)
{
    int bad = got.n != n;
    for (int i = 0; i < n && !bad; i++)
        bad = !has("tenant-writable", paths[i]);
    for (int i = 0; i < got.n && !bad; i++)
        bad = got.at[i].sev != VH_SEV_ERROR;
    if (bad) {
        unit_findings_dump(&got);
        fail_msg("expected %d tenant-writable errors, got %d findings", n, got.n);
    }
}

static void test_code_behind_symlink(void **state)
{
    (void)state;
    vh_row root = row_for(jail, 0), r = row_for(jail, 1);
    const char *cat[] = {"/usr/bin/cat"};
    /* lib64 -> data/lib64, all root's: clean, and cat still starts */
    unit_sh("mkdir -m 0755 %s; mv %s %s; ln -s data/lib64 %s", jp("/data"), jp("/lib64"), jp("/data/lib64"),
            jp("/lib64"));
    int worst = run(&root, cat, 1, 0, 1);
    if (got.n)
        unit_findings_dump(&got);
    assert_int_equal(worst, 0);
    /* the loader's directory belongs to the tenant: both are errors, said
     * once (the deep scan through the link, the walk through the loader) */
    unit_sh("chown -R nobody %s", jp("/data/lib64"));
    const char *both[] = {jp("/data/lib64"), jp("/data/lib64/ld-linux-x86-64.so.2")};
    char p0[600], p1[600];
    snprintf(p0, sizeof p0, "%s", both[0]);
    snprintf(p1, sizeof p1, "%s", both[1]);
    const char *paths[] = {p0, p1};
    assert_int_equal(run(&root, NULL, 0, 0, 1), VH_SEV_ERROR);
    expect_n_tenant(2, paths);
    run(&root, cat, 1, 0, 1);
    expect_n_tenant(2, paths);
    /* the walk alone (no deep scan) finds the loader by its real place */
    run(&root, cat, 1, 0, 0);
    expect_n_tenant(2, paths);
    /* an absolute target and one climbing with .. resolve inside the jail */
    unit_sh("rm %s; ln -s /data/lib64 %s", jp("/lib64"), jp("/lib64"));
    run(&root, NULL, 0, 0, 1);
    expect_n_tenant(2, paths);
    unit_sh("rm %s; ln -s ../../../../../../data/lib64 %s", jp("/lib64"), jp("/lib64"));
    run(&root, NULL, 0, 0, 1);
    expect_n_tenant(2, paths);
    /* a tenant directory above the target: it could swap the target */
    unit_sh("chown -R root %s; chown nobody %s", jp("/data/lib64"), jp("/data"));
    run(&root, NULL, 0, 0, 1);
    expect_only("tenant-writable", jp("/data"), VH_SEV_ERROR);
    /* a run-as domain keeps its rules: its own code is a warning */
    unit_sh("chown root %s; chown nobody %s", jp("/data"), jp("/data/lib64/ld-linux-x86-64.so.2"));
    assert_int_equal(run(&r, cat, 1, 0, 1), VH_SEV_WARNING);
    expect_only("runas-writable", jp("/data/lib64/ld-linux-x86-64.so.2"), VH_SEV_WARNING);
}

/* merged /usr: bin -> usr/bin, lib -> usr/lib, root's: clean; a tenant
 * file there is said once, by its real path. */
static void test_merged_usr(void **state)
{
    (void)state;
    vh_row root = row_for(jail, 0);
    unit_sh("rm -rf %s; mkdir -p %s; cp -a %s/. %s/; rm -rf %s; ln -s usr/lib %s; ln -s usr/bin %s; ln -s usr/sbin %s",
            jp("/bin"), jp("/usr/lib"), jp("/lib"), jp("/usr/lib"), jp("/lib"), jp("/lib"), jp("/bin"), jp("/sbin"));
    const char *progs[] = {"cat", "/bin/cat", "/usr/bin/cat"};
    int worst = run(&root, progs, 3, 0, 1);
    if (got.n)
        unit_findings_dump(&got);
    assert_int_equal(worst, 0);
    unit_sh("chown nobody %s", jp("/usr/bin/cat"));
    run(&root, progs, 3, 0, 1);
    expect_only("tenant-writable", jp("/usr/bin/cat"), VH_SEV_ERROR);
}

/* A code link pointing outside the jail is looked up inside it. */
static void test_code_symlink_outside(void **state)
{
    (void)state;
    vh_row root = row_for(jail, 0);
    /* /lib of the jail, root's: nothing (the host's /lib is not judged) */
    unit_sh("ln -s /lib %s", jp("/lib32"));
    assert_int_equal(run(&root, NULL, 0, 0, 1), 0);
    /* a target the host lacks, tenant-owned in the jail: reported there */
    unit_sh("mkdir -p %s; chown nobody %s; ln -s /opt/vh-only-in-jail %s", jp("/opt/vh-only-in-jail"),
            jp("/opt/vh-only-in-jail"), jp("/libx32"));
    run(&root, NULL, 0, 0, 1);
    expect_only("tenant-writable", jp("/opt/vh-only-in-jail"), VH_SEV_ERROR);
    /* a target only the host has: dangling in the jail, nothing to load */
    unit_sh("rm %s; ln -s /proc/self %s", jp("/libx32"), jp("/libx32"));
    assert_int_equal(run(&root, NULL, 0, 0, 1), 0);
    /* a chain of links: the directory holding the second link belongs to
     * the tenant, who can point it elsewhere */
    unit_sh("rm %s; mkdir -p %s %s; ln -s ../store/l32 %s; ln -s /hop/l32 %s; chown nobody %s", jp("/libx32"),
            jp("/hop"), jp("/store/l32"), jp("/hop/l32"), jp("/libx32"), jp("/hop"));
    run(&root, NULL, 0, 0, 1);
    expect_only("tenant-writable", jp("/hop"), VH_SEV_ERROR);
    /* a loop loads nothing and stops */
    unit_sh("chown root %s; rm %s; ln -s /libx32 %s", jp("/hop"), jp("/hop/l32"), jp("/hop/l32"));
    assert_int_equal(run(&root, NULL, 0, 0, 1), 0);
}

/* A root service's program and libraries outside the code directories. */
static void test_root_program_anywhere(void **state)
{
    (void)state;
    vh_row root = row_for(jail, 0), r = row_for(jail, 1);
    unit_sh("mkdir -p %s; cp %s %s; chown nobody %s", jp("/opt/app"), jp("/usr/bin/cat"), jp("/opt/app/daemon"),
            jp("/opt/app/daemon"));
    /* data of the tenant, as long as no root program is there */
    assert_int_equal(run(&root, NULL, 0, 0, 1), 0);
    const char *daemon[] = {"/opt/app/daemon"};
    assert_int_equal(run(&root, daemon, 1, 0, 1), VH_SEV_ERROR);
    expect_only("tenant-writable", jp("/opt/app/daemon"), VH_SEV_ERROR);
    unit_sh("chown root %s; chown nobody %s", jp("/opt/app/daemon"), jp("/opt/app"));
    run(&root, daemon, 1, 0, 0);
    expect_only("tenant-writable", jp("/opt/app"), VH_SEV_ERROR);
    unit_sh("chown root %s", jp("/opt/app"));
    assert_int_equal(run(&root, daemon, 1, 0, 1), 0);
    /* a library found by the walk outside lib*, by a name that starts
     * with a code directory: judged where it is */
    static unsigned char img[4096];
    struct eb_layout L;
    unit_sh("mkdir -p %s", jp("/opt/lib"));
    struct eb prog = {.is64 = 1, .machine = 62, .needed = {"libx.so"}, .nneeded = 1, .runpath = "/lib/../opt/lib"};
    unit_write_file(jp("/usr/bin/prog"), img, eb_build(&prog, img, sizeof img, &L), 0755);
    struct eb lib = {.is64 = 1, .machine = 62};
    unit_write_file(jp("/opt/lib/libx.so"), img, eb_build(&lib, img, sizeof img, &L), 0644);
    const char *progs[] = {"/usr/bin/prog"};
    assert_int_equal(run(&root, progs, 1, 0, 1), 0);
    unit_sh("chown nobody %s", jp("/opt/lib/libx.so"));
    run(&root, progs, 1, 0, 1);
    expect_only("tenant-writable", jp("/opt/lib/libx.so"), VH_SEV_ERROR);
    /* a run-as domain's own program outside the code directories: its
     * rule, a warning */
    unit_sh("chown nobody %s", jp("/opt/app/daemon"));
    assert_int_equal(run(&r, daemon, 1, 0, 1), VH_SEV_WARNING);
    expect_only("runas-writable", jp("/opt/app/daemon"), VH_SEV_WARNING);
}

/* Issue 13 point 4: the host's default locale, missing from the jail. */
static void test_locale_missing(void **state)
{
    (void)state;
    vh_row root = row_for(jail, 0);
    vh_jailcheck jc = {"www/127.0.0.2", &root, NULL, 0, 0, 0, 0, 0};
    vh_jailcheck_more more = {NULL, "de_DE.UTF-8"};
    got.n = 0;
    assert_int_equal(vh_jailcheck_run_more(&jc, &more, unit_collect, &got), VH_SEV_WARNING);
    expect_only("locale-missing", jp("/usr/lib/locale"), VH_SEV_WARNING);
    unit_sh("mkdir -p %s", jp("/usr/lib/locale/de_DE.utf8"));
    got.n = 0;
    assert_int_equal(vh_jailcheck_run_more(&jc, &more, unit_collect, &got), 0);
    /* a symlink of the jail's resolves inside it, never on the host */
    unit_sh("rm -r %s; ln -s /nowhere %s", jp("/usr/lib/locale/de_DE.utf8"), jp("/usr/lib/locale/de_DE.utf8"));
    got.n = 0;
    assert_int_equal(vh_jailcheck_run_more(&jc, &more, unit_collect, &got), VH_SEV_WARNING);
}

static void test_mount_point(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    unit_sh("mkdir -p %s", jp("/proc"));
    assert_int_equal(mount("proc", jp("/proc"), "proc", 0, NULL), 0);
    run(&r, NULL, 0, 0, 1);
    int ok = got.n == 1 && has("mount-point", jp("/proc"));
    umount2(jp("/proc"), MNT_DETACH);
    if (!ok) {
        unit_findings_dump(&got);
        fail_msg("a mounted procfs must give exactly one mount-point finding");
    }
    /* a bind mount of a directory of the same file system */
    unit_sh("mkdir -p %s %s/out/d", jp("/data"), unit_dir);
    assert_int_equal(mount(jp("/../out/d"), jp("/data"), NULL, MS_BIND, NULL), 0);
    run(&r, NULL, 0, 0, 1);
    ok = got.n == 1 && has("mount-point", jp("/data"));
    umount2(jp("/data"), MNT_DETACH);
    if (!ok) {
        unit_findings_dump(&got);
        fail_msg("a bind mount must give exactly one mount-point finding");
    }
}

/* ---- the path ----------------------------------------------------- */

static void test_path_symlink(void **state)
{
    (void)state;
    char link[300];
    snprintf(link, sizeof link, "%s/link", unit_dir);
    unit_sh("ln -s jail %s", link);
    vh_row r = row_for(link, 1);
    unit_sh("chmod 4755 %s", jp("/usr/bin/cat")); /* not reached: no deep scan through a symlink */
    run(&r, NULL, 0, 0, 1);
    expect_only("symlink", link, VH_SEV_ERROR);
    unit_sh("rm %s", link);
}

static void test_path_group_writable_parent(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    unit_sh("chmod g+w %s", unit_dir);
    run(&r, NULL, 0, 0, 1);
    unit_sh("chmod g-w %s", unit_dir);
    expect_only("group-writable", unit_dir, VH_SEV_ERROR);
}

static void test_path_missing_and_not_dir(void **state)
{
    (void)state;
    vh_row r = row_for(jp("/nothere"), 1);
    run(&r, NULL, 0, 0, 1);
    expect_only("missing", jp("/nothere"), VH_SEV_ERROR);
    vh_row f = row_for(jp("/etc/passwd"), 1);
    run(&f, NULL, 0, 0, 1);
    expect_only("not-directory", jp("/etc/passwd"), VH_SEV_ERROR);
}

static void test_root_is_slash(void **state)
{
    (void)state;
    vh_row r = row_for("/", 0);
    run(&r, NULL, 0, 0, 1); /* the deep scan of / is skipped */
    /* issue 13: a '/' row without the unjailed mark is refused by
     * virtuald: an error; with the mark, the `unjailed` warning */
    expect_only("root-is-slash", "/", VH_SEV_ERROR);
    r.unjailed = 1;
    run(&r, NULL, 0, 0, 1);
    expect_only("unjailed", "/", VH_SEV_WARNING);
}

/* ---- the identity ------------------------------------------------- */

static void test_identity(void **state)
{
    (void)state;
    vh_row root = row_for(jail, 0);
    assert_int_equal(run(&root, NULL, 0, 1, 0), VH_SEV_WARNING);
    expect_only("runs-as-root", jail, VH_SEV_WARNING);
    vh_row gone = row_for(jail, 1);
    snprintf(gone.user, sizeof gone.user, "vh-no-such-user");
    run(&gone, NULL, 0, 1, 0);
    expect_only("user-gone", jail, VH_SEV_ERROR);
    vh_row moved = row_for(jail, 1);
    moved.uid = 4242;
    run(&moved, NULL, 0, 1, 0);
    expect_only("uid-changed", jail, VH_SEV_ERROR);
    vh_row g = row_for(jail, 1);
    snprintf(g.group, sizeof g.group, "vh-no-such-group");
    run(&g, NULL, 0, 1, 0);
    assert_true(has("group-gone", jail));
    vh_row gm = row_for(jail, 1);
    gm.gid = 4242;
    run(&gm, NULL, 0, 1, 0);
    assert_true(has("gid-changed", jail));
}

/* ---- programs ----------------------------------------------------- */

static void test_missing_program(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    const char *progs[] = {"nosuch"};
    assert_int_equal(run(&r, progs, 1, 0, 0), VH_SEV_ERROR);
    expect_only("missing-program", jail, VH_SEV_ERROR);
    const char *abs[] = {"/usr/sbin/nosuch"};
    run(&r, abs, 1, 0, 0);
    expect_only("missing-program", jp("/usr/sbin/nosuch"), VH_SEV_ERROR);
}

static void test_missing_interpreter_and_library(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    const char *progs[] = {"cat"};
    unit_sh("rm %s", jp("/lib/x86_64-linux-gnu/libc.so.6"));
    run(&r, progs, 1, 0, 0);
    expect_only("missing-library", jp("/usr/bin/cat"), VH_SEV_ERROR);
    unit_sh("rm %s", jp("/lib64/ld-linux-x86-64.so.2"));
    run(&r, progs, 1, 0, 0);
    if (got.n != 2 || !has("missing-interpreter", jp("/lib64/ld-linux-x86-64.so.2")) ||
        !has("missing-library", jp("/usr/bin/cat"))) {
        unit_findings_dump(&got);
        fail_msg("expected missing-interpreter and missing-library");
    }
}

static void test_symlinks_stay_inside(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    /* An absolute link to a host program that the jail lacks: resolved
     * inside the jail, so it is missing, whatever the host has. */
    unit_sh("ln -s /usr/bin/ls %s", jp("/usr/bin/ls"));
    const char *progs[] = {"ls"};
    run(&r, progs, 1, 0, 0);
    expect_only("missing-program", jail, VH_SEV_ERROR);
    const char *abs[] = {"/usr/bin/ls"};
    run(&r, abs, 1, 0, 0);
    expect_only("missing-program", jp("/usr/bin/ls"), VH_SEV_ERROR);
    /* .. never climbs out of the jail */
    unit_sh("ln -s ../../../../../../../usr/bin/ls %s", jp("/usr/bin/ls2"));
    const char *up[] = {"/usr/bin/ls2"};
    run(&r, up, 1, 0, 0);
    expect_only("missing-program", jp("/usr/bin/ls2"), VH_SEV_ERROR);
    /* a link inside the jail to a program of the jail is followed */
    unit_sh("ln -s /usr/bin/cat %s", jp("/usr/bin/kitty"));
    const char *kitty[] = {"kitty"};
    assert_int_equal(run(&r, kitty, 1, 0, 0), 0);
}

static void test_not_executable(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    unit_sh("chmod 0700 %s", jp("/usr/bin/cat"));
    const char *progs[] = {"/usr/bin/cat"};
    run(&r, progs, 1, 0, 0);
    expect_only("bad-program", jp("/usr/bin/cat"), VH_SEV_ERROR);
    /* root may run it */
    vh_row root = row_for(jail, 0);
    assert_int_equal(run(&root, progs, 1, 0, 0), 0);
}

static void test_runpath_origin(void **state)
{
    (void)state;
    static unsigned char img[4096];
    struct eb_layout L;
    unit_sh("mkdir -p %s %s", jp("/app/bin"), jp("/app/lib"));
    struct eb prog = {.is64 = 1, .machine = 62, .needed = {"libx.so"}, .nneeded = 1, .runpath = "$ORIGIN/../lib"};
    unit_write_file(jp("/app/bin/prog"), img, eb_build(&prog, img, sizeof img, &L), 0755);
    struct eb lib = {.is64 = 1, .machine = 62, .needed = {"liby.so"}, .nneeded = 1, .rpath = "${ORIGIN}"};
    unit_write_file(jp("/app/lib/libx.so"), img, eb_build(&lib, img, sizeof img, &L), 0644);
    struct eb liby = {.is64 = 1, .machine = 62};
    unit_write_file(jp("/app/lib/liby.so"), img, eb_build(&liby, img, sizeof img, &L), 0644);
    vh_row r = row_for(jail, 1);
    const char *progs[] = {"/app/bin/prog"};
    int worst = run(&r, progs, 1, 0, 0);
    if (got.n)
        unit_findings_dump(&got);
    assert_int_equal(worst, 0);
    /* a library for another machine is skipped, as ld.so skips it */
    struct eb arm = {.is64 = 1, .machine = 183};
    unit_write_file(jp("/app/lib/liby.so"), img, eb_build(&arm, img, sizeof img, &L), 0644);
    run(&r, progs, 1, 0, 0);
    expect_only("missing-library", jp("/app/bin/../lib/libx.so"), VH_SEV_ERROR); /* $ORIGIN as ld.so expands it */
    /* a damaged ELF program */
    unit_write_file(jp("/app/bin/prog"), img, 30, 0755);
    run(&r, progs, 1, 0, 0);
    expect_only("bad-program", jp("/app/bin/prog"), VH_SEV_ERROR);
}

static void test_script(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    const char script[] = "#!/bin/sh -e\necho hi\n";
    unit_write_file(jp("/usr/bin/hello"), script, sizeof script - 1, 0755);
    const char *progs[] = {"hello"};
    run(&r, progs, 1, 0, 0);
    expect_only("missing-interpreter", jp("/bin/sh"), VH_SEV_ERROR);
    /* with an interpreter: its needs are checked too */
    unit_sh("mkdir -p %s; cp %s %s", jp("/bin"), jp("/usr/bin/cat"), jp("/bin/sh"));
    assert_int_equal(run(&r, progs, 1, 0, 0), 0);
    const char text[] = "plain text\n";
    unit_write_file(jp("/usr/bin/hello"), text, sizeof text - 1, 0755);
    run(&r, progs, 1, 0, 0);
    expect_only("bad-program", jp("/usr/bin/hello"), VH_SEV_ERROR);
}

/* ---- K7: host users and set-uid plants ---------------------------- */

static void test_exposed(void **state)
{
    (void)state;
    vh_row r = row_for(jail, 1);
    /* every ancestor searchable, set-uid honoured: an error */
    unit_sh("chmod 0755 %s", unit_dir);
    assert_int_equal(run(&r, NULL, 0, 0, 0), VH_SEV_ERROR);
    expect_only("exposed", jail, VH_SEV_ERROR);
    /* searchable by a group that is not root's: still exposed */
    unit_sh("chmod 0750 %s; chgrp nogroup %s", unit_dir, unit_dir);
    run(&r, NULL, 0, 0, 0);
    expect_only("exposed", jail, VH_SEV_ERROR);
    /* root's group only: hidden */
    unit_sh("chgrp root %s", unit_dir);
    assert_int_equal(run(&r, NULL, 0, 0, 0), 0);
    /* a nosuid file system with every ancestor searchable: no finding */
    unit_sh("chmod 0755 %s; mount -t tmpfs -o nosuid,mode=0755 k7 %s", unit_dir, jail);
    int worst = run(&r, NULL, 0, 0, 0);
    umount2(jail, MNT_DETACH);
    if (got.n)
        unit_findings_dump(&got);
    assert_int_equal(worst, 0);
    /* the runtime's trust check with the flag says the same */
    vh_err e;
    assert_int_equal(vh_path_trust_flags(jail, VH_WANT_DIR, VH_PATH_CHECK_EXPOSED, 77, NULL, NULL, &e), -1);
    assert_int_equal(e.code, 77);
    assert_non_null(strstr(e.msg, "chmod o-x"));
    assert_int_equal(vh_path_trust(jail, VH_WANT_DIR, 77, NULL, NULL, &e), 0);
    unit_sh("chmod 0700 %s", unit_dir);
    assert_int_equal(vh_path_trust_flags(jail, VH_WANT_DIR, VH_PATH_CHECK_EXPOSED, 77, NULL, NULL, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_provisioned_is_clean, setup),
        cmocka_unit_test_setup(test_provision_idempotent, setup),
        cmocka_unit_test_setup(test_provision_refuses_tenant_dir, setup),
        cmocka_unit_test_setup(test_provision_parent_must_be_trusted, setup),
        cmocka_unit_test_setup(test_setuid_setgid, setup),
        cmocka_unit_test_setup(test_world_writable_dir, setup),
        cmocka_unit_test_setup(test_devices, setup),
        cmocka_unit_test_setup(test_hard_links, setup),
        cmocka_unit_test_setup(test_socket, setup),
        cmocka_unit_test_setup(test_capabilities, setup),
        cmocka_unit_test_setup(test_runas_writable, setup),
        cmocka_unit_test_setup(test_mount_point, setup),
        cmocka_unit_test_setup(test_path_symlink, setup),
        cmocka_unit_test_setup(test_path_group_writable_parent, setup),
        cmocka_unit_test_setup(test_path_missing_and_not_dir, setup),
        cmocka_unit_test_setup(test_root_is_slash, setup),
        cmocka_unit_test_setup(test_identity, setup),
        cmocka_unit_test_setup(test_missing_program, setup),
        cmocka_unit_test_setup(test_missing_interpreter_and_library, setup),
        cmocka_unit_test_setup(test_symlinks_stay_inside, setup),
        cmocka_unit_test_setup(test_not_executable, setup),
        cmocka_unit_test_setup(test_runpath_origin, setup),
        cmocka_unit_test_setup(test_script, setup),
        cmocka_unit_test_setup(test_exposed, setup),
        cmocka_unit_test_setup(test_path_writable, setup),
        cmocka_unit_test_setup(test_tenant_writable, setup),
        cmocka_unit_test_setup(test_code_behind_symlink, setup),
        cmocka_unit_test_setup(test_merged_usr, setup),
        cmocka_unit_test_setup(test_code_symlink_outside, setup),
        cmocka_unit_test_setup(test_root_program_anywhere, setup),
        cmocka_unit_test_setup(test_locale_missing, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
