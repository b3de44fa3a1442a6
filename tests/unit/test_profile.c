/* profile: the parser of provision profiles (every directive, and a
 * failure for each way a line can be wrong), the profiles shipped in
 * profiles/ (each parses), loading by name and path with the trust rule,
 * the listing; and the path rules profiles share with provision
 * (vh_provision_clean_path, vh_provision_refuse_host). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "profile.h"
#include "provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse(const char *text, vh_profile *p, vh_err *e)
{
    return vh_profile_parse("t", text, strlen(text), p, e);
}

static void test_every_directive(void **state)
{
    (void)state;
    const char *text = "# a comment\n"
                       "\n"
                       "description an FTP server\n"
                       "program /usr/sbin/ftpd\n"
                       "package git\n"
                       "file /etc/shells\n"
                       "pam ftp\n"
                       "gconv\n"
                       "user ftp home=/srv/ftp shell=/usr/sbin/nologin\n"
                       "user nobody\n"
                       "group mail\n"
                       "dir /srv/ftp 0755 root root\n"
                       "dir /tmp 1777 root root\n"
                       "dir /srv/git 0750 @user @group\n"
                       "skel /etc/a.conf 0644\n"
                       "| first line\n"
                       "|second\n"
                       "|\n"
                       "inetd ftp stream tcp nowait root /usr/sbin/virtuald virtuald ftp /usr/sbin/ftpd -A\n"
                       "syslog /dev/log\n"
                       "note put files in /srv/ftp\n";
    vh_profile p;
    vh_err e;
    assert_int_equal(parse(text, &p, &e), 0);
    assert_string_equal(p.description, "an FTP server");
    assert_int_equal(p.nprograms, 1);
    assert_string_equal(p.programs[0], "/usr/sbin/ftpd");
    assert_string_equal(p.packages[0], "git");
    assert_string_equal(p.files[0], "/etc/shells");
    assert_string_equal(p.pam[0], "ftp");
    assert_int_equal(p.gconv, 1);
    assert_int_equal(p.nusers, 2);
    assert_string_equal(p.users[0].home, "/srv/ftp");
    assert_string_equal(p.users[0].shell, "/usr/sbin/nologin");
    assert_null(p.users[1].home);
    assert_string_equal(p.groups[0], "mail");
    assert_int_equal(p.ndirs, 3);
    assert_int_equal(p.dirs[1].mode, 01777);
    assert_string_equal(p.dirs[2].owner, "@user");
    assert_int_equal(p.nskels, 1);
    assert_int_equal(p.skels[0].mode, 0644);
    assert_string_equal(p.skels[0].data, "first line\nsecond\n\n");
    assert_int_equal(p.skels[0].len, strlen("first line\nsecond\n\n"));
    assert_string_equal(p.inetd[0], "ftp stream tcp nowait root /usr/sbin/virtuald virtuald ftp /usr/sbin/ftpd -A");
    assert_string_equal(p.syslog[0], "/dev/log");
    assert_string_equal(p.notes[0], "put files in /srv/ftp");
    vh_profile_free(&p);
}

/* Each bad line is refused with the line number and the reason. */
static void test_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"program /bin/sh\nfrobnicate x\n", "line 2: unknown directive"},
        {"program bin/sh\n", "line 1: needs one clean absolute path"},
        {"program /usr/../etc/shadow\n", "clean absolute path"},
        {"program /bin//sh\n", "clean absolute path"},
        {"program /bin/sh /bin/ls\n", "needs one clean absolute path"},
        {"file /etc/./shadow\nprogram /bin/sh\n", "line 1: needs one clean absolute path"},
        {"program /bin/sh\ndir /srv/../etc 0755 root root\n", "line 2: expected dir PATH MODE OWNER GROUP"},
        {"program /bin/sh\ndir / 0755 root root\n", "expected dir PATH"},
        {"program /bin/sh\ndir /srv 4755 root root\n", "at most 1777"},
        {"program /bin/sh\ndir /srv 0755 root\n", "expected dir PATH"},
        {"program /bin/sh\ndir /srv 755x root root\n", "octal"},
        {"program /bin/sh\ndir /srv 0755 @nobody root\n", "an owner and group"},
        {"program /bin/sh\nskel /etc/x 0775\n", "at most 0755"},
        {"program /bin/sh\nskel /etc/x 2755\n", "at most 0755"},
        {"program /bin/sh\nskel /etc/../x 0644\n", "expected skel PATH MODE"},
        {"program /bin/sh\nskel /etc/x 0644\n| a\nskel /etc/x 0644\n", "line 4: a second skel"},
        {"program /bin/sh\n| orphan\n", "line 2: a '|' line belongs right after a skel"},
        {"program /bin/sh\nskel /etc/x 0644\n# comment ends it\n| late\n", "line 4: a '|' line"},
        {"program /bin/sh\nuser\n", "needs a user name"},
        {"program /bin/sh\nuser ftp home=srv\n", "expected home=PATH"},
        {"program /bin/sh\nuser ftp home=/a:b\n", "expected home=PATH"},
        {"program /bin/sh\nuser ftp home=/a home=/b\n", "expected home=PATH"},
        {"program /bin/sh\nuser ftp size=3\n", "expected home=PATH"},
        {"program /bin/sh\nuser a:b\n", "needs a user name"},
        {"program /bin/sh\ngroup a/b\n", "needs one name"},
        {"program /bin/sh\npackage\n", "needs one name"},
        {"program /bin/sh\npam ../../etc/shadow\n", "needs one name"},
        {"program /bin/sh\ngconv yes\n", "takes nothing"},
        {"program /bin/sh\ndescription\n", "needs text"},
        {"program /bin/sh\ndescription a\ndescription b\n", "line 3: a second"},
        {"program /bin/sh\ninetd\n", "needs text"},
        {"program /bin/sh\nsyslog dev/log\n", "clean absolute path"},
        {"program /bin/sh\nnote a\x01b\n", "line 2: a control character"},
        {"description nothing to install\n", "names no program, package or file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vh_profile p;
        vh_err e;
        memset(&e, 0, sizeof e);
        int r = parse(cases[i].text, &p, &e);
        if (r != -1 || !strstr(e.msg, cases[i].want))
            fail_msg("case %zu: got %d '%s', want '%s'", i, r, e.msg, cases[i].want);
        assert_int_equal(e.code, VH_EX_DATAERR);
        vh_profile_free(&p);
    }
}

static void test_limits(void **state)
{
    (void)state;
    vh_profile p;
    vh_err e;
    /* a NUL byte */
    assert_int_equal(vh_profile_parse("t", "program /bin/sh\n\0x\n", 19, &p, &e), -1);
    assert_non_null(strstr(e.msg, "NUL"));
    vh_profile_free(&p);
    /* a line longer than 4096 bytes */
    char *big = malloc(8192);
    assert_non_null(big);
    memset(big, 'a', 8191);
    big[8191] = '\0';
    memcpy(big, "note ", 5);
    assert_int_equal(parse(big, &p, &e), -1);
    assert_non_null(strstr(e.msg, "longer than 4096"));
    vh_profile_free(&p);
    free(big);
    /* more than 256 entries of one list */
    size_t cap = 300 * 32;
    char *many = malloc(cap);
    assert_non_null(many);
    size_t len = 0;
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(many + len, cap - len, "program /bin/p%d\n", i);
    assert_int_equal(parse(many, &p, &e), -1);
    assert_non_null(strstr(e.msg, "line 257: too many entries"));
    vh_profile_free(&p);
    free(many);
    /* larger than 256 KiB */
    assert_int_equal(vh_profile_parse("t", "program /bin/sh\n", VH_PROFILE_MAX_BYTES + 1, &p, &e), -1);
    vh_profile_free(&p);
    /* CRLF line ends and blanks around directives are accepted */
    assert_int_equal(parse("  program /bin/sh  \r\n\tpam  ftp\r\n", &p, &e), 0);
    assert_string_equal(p.programs[0], "/bin/sh");
    assert_string_equal(p.pam[0], "ftp");
    vh_profile_free(&p);
}

static void test_names(void **state)
{
    (void)state;
    assert_true(vh_profile_valid_name("git-daemon"));
    assert_true(vh_profile_valid_name("busybox_httpd.2"));
    assert_false(vh_profile_valid_name(""));
    assert_false(vh_profile_valid_name(".hidden"));
    assert_false(vh_profile_valid_name(".."));
    assert_false(vh_profile_valid_name("a/b"));
    assert_false(vh_profile_valid_name("a b"));
    assert_false(vh_profile_valid_name("0123456789012345678901234567890123456789012345678901234567890123"));
}

static void test_clean_path_and_secrets(void **state)
{
    (void)state;
    assert_true(vh_provision_clean_path("/usr/lib/x86_64-linux-gnu/security/pam_unix.so"));
    assert_true(vh_provision_clean_path("/a..b/.c"));
    assert_false(vh_provision_clean_path("usr/lib"));
    assert_false(vh_provision_clean_path("/usr/../etc/shadow"));
    assert_false(vh_provision_clean_path("/usr/./lib"));
    assert_false(vh_provision_clean_path("/usr//lib"));
    assert_false(vh_provision_clean_path("/usr/lib/"));
    assert_false(vh_provision_clean_path("/.."));
    assert_false(vh_provision_clean_path("/a\nb"));
    assert_false(vh_provision_clean_path(""));
    assert_non_null(vh_provision_refuse_host("/etc/shadow", S_IFREG | 0644));
    assert_non_null(vh_provision_refuse_host("/etc/gshadow-", S_IFREG | 0644));
    assert_non_null(vh_provision_refuse_host("/etc/ssh/ssh_host_ed25519_key.pub", S_IFREG | 0644));
    assert_non_null(vh_provision_refuse_host("/etc/ssl/private/x.key", S_IFREG | 0644));
    assert_non_null(vh_provision_refuse_host("/etc/mine", S_IFREG | 0640)); /* not readable by others */
    assert_non_null(vh_provision_refuse_host("/etc/mine", S_IFDIR | 0755));
    assert_null(vh_provision_refuse_host("/etc/shadowx", S_IFREG | 0644));
    assert_null(vh_provision_refuse_host("/etc/shells", S_IFREG | 0644));
}

/* Every profile shipped in the repository parses, names what it
 * installs and how it is started. */
static void test_shipped_profiles(void **state)
{
    (void)state;
    char **names;
    vh_err e;
    int n = vh_profile_list(VH_SRC_DIR "/profiles", &names, &e);
    assert_true(n >= 7);
    const char *want[] = {"busybox-httpd", "git-daemon", "inetutils-ftpd", "popa3d", "rsync", "stunnel", "vsftpd"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= strcmp(names[i], want[w]) == 0;
        if (!found)
            fail_msg("profile %s is not in profiles/", want[w]);
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/profiles/%s.profile", VH_SRC_DIR, names[i]);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        static char buf[VH_PROFILE_MAX_BYTES];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        vh_profile p;
        if (vh_profile_parse(names[i], buf, len, &p, &e) < 0)
            fail_msg("%s", e.msg);
        assert_non_null(p.description);
        assert_int_equal(p.ninetd, 1);
        vh_profile_free(&p);
        if (i > 0)
            assert_true(strcmp(names[i - 1], names[i]) < 0); /* sorted */
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Every truncation and random byte changes of a shipped profile: the
 * parser answers or refuses (the ASan build of scripts/test checks it
 * never reads or writes outside its buffers), and frees what it made. */
static void test_mutations(void **state)
{
    (void)state;
    FILE *f = fopen(VH_SRC_DIR "/profiles/vsftpd.profile", "r");
    assert_non_null(f);
    static char orig[VH_PROFILE_MAX_BYTES];
    size_t len = fread(orig, 1, sizeof orig, f);
    fclose(f);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    unsigned seed = 14;
    for (size_t cut = 0; cut <= len; cut++) {
        memcpy(buf, orig, cut); /* exactly cut bytes: ASan sees a read past them */
        vh_profile p;
        vh_err e;
        vh_profile_parse("m", buf, cut, &p, &e);
        vh_profile_free(&p);
    }
    static const char bytes[] = {'\n', '|', ' ', '/', '.', ':', '0', '7', '#', '@', '\0', '\t', 'x', '\r'};
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, orig, len);
        for (int k = 1 + (int)(rand_r(&seed) % 4); k > 0; k--)
            buf[rand_r(&seed) % len] = bytes[rand_r(&seed) % sizeof bytes];
        vh_profile p;
        vh_err e;
        if (vh_profile_parse("m", buf, len, &p, &e) == 0) {
            for (int i = 0; i < p.ndirs; i++)
                assert_true(vh_provision_clean_path(p.dirs[i].path) && p.dirs[i].mode <= 01777);
            for (int i = 0; i < p.nskels; i++)
                assert_true(vh_provision_clean_path(p.skels[i].path) && p.skels[i].mode <= 0755 &&
                            strlen(p.skels[i].data) == p.skels[i].len);
        }
        vh_profile_free(&p);
    }
    free(buf);
}

/* Loading: by name from a directory, by path; refused when the file or
 * a directory above it is writable by group or others, or missing, or
 * the name is no name. */
static void test_load(void **state)
{
    (void)state;
    char dir[] = "/run/vhtest/unit_profile.XXXXXX"; /* the fixtures' root-owned 0755 parent */
    mkdir("/run/vhtest", 0755);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/web.profile", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("description web\nprogram /bin/busybox\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0644), 0);
    vh_profile p;
    vh_err e;
    assert_int_equal(vh_profile_load(dir, "web", &p, &e), 0);
    assert_string_equal(p.name, "web");
    vh_profile_free(&p);
    assert_int_equal(vh_profile_load("/nonexistent", path, &p, &e), 0); /* by path */
    assert_string_equal(p.name, "web");
    vh_profile_free(&p);
    assert_int_equal(vh_profile_load(dir, "../web", &p, &e), -1);
    assert_int_equal(e.code, VH_EX_USAGE);
    vh_profile_free(&p);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/../%s/web.profile", dir, strrchr(dir, '/') + 1);
    assert_int_equal(vh_profile_load(dir, bad, &p, &e), -1);
    assert_non_null(strstr(e.msg, "clean absolute path"));
    vh_profile_free(&p);
    assert_int_equal(vh_profile_load(dir, "nosuch", &p, &e), -1);
    assert_int_equal(e.code, VH_EX_NOINPUT);
    vh_profile_free(&p);
    assert_int_equal(chmod(path, 0664), 0); /* group-writable: refused */
    assert_int_equal(vh_profile_load(dir, "web", &p, &e), -1);
    assert_non_null(strstr(e.msg, "is not trusted"));
    vh_profile_free(&p);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(chmod(dir, 0777), 0); /* a directory others can write: refused */
    assert_int_equal(vh_profile_load(dir, "web", &p, &e), -1);
    assert_non_null(strstr(e.msg, "is not trusted"));
    vh_profile_free(&p);
    assert_int_equal(chmod(dir, 0755), 0);
    char lnk[300];
    snprintf(lnk, sizeof lnk, "%s/link.profile", dir);
    assert_int_equal(symlink(path, lnk), 0); /* a symlink: refused */
    assert_int_equal(vh_profile_load(dir, "link", &p, &e), -1);
    vh_profile_free(&p);
    char **names;
    assert_int_equal(vh_profile_list(dir, &names, &e), 2);
    assert_string_equal(names[0], "link");
    assert_string_equal(names[1], "web");
    free(names[0]);
    free(names[1]);
    free(names);
    unlink(lnk);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_directive),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_clean_path_and_secrets),
        cmocka_unit_test(test_shipped_profiles),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
