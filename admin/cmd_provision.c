/* provision: build or complete a jail (provision.h), then check it the
 * way `check` would (jailcheck.h) and print what is still wrong. */
#include "vhostctl.h"

#include "exitcodes.h"
#include "ident.h"
#include "jailcheck.h"
#include "provision.h"
#include "valid.h"

#include <string.h>

static void print_note(void *ctx, const char *what, const char *path)
{
    (void)ctx;
    if (strcmp(what, "unchanged") != 0)
        printf("%s %s\n", what, path);
}

int vc_cmd_provision(const char *db, int argc, char **argv)
{
    struct arg_str *root = arg_str1(NULL, NULL, "ROOT", "the jail directory (created root-owned 0755 when missing)");
    struct arg_str *program = arg_strn("p", "program", "PATH", 1, 64,
                                       "absolute host path of a program to install with its interpreter and libraries");
    struct arg_str *user = arg_str0("u", "user", "U", "the run-as user to list in the jail's /etc/passwd");
    struct arg_str *group = arg_str0("g", "group", "G", "its group (default: the user's primary group)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path (not used)");
    struct arg_end *end = arg_end(10);
    void *table[] = {root, program, user, group, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("provision"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    vh_row row;
    memset(&row, 0, sizeof row);
    if (vh_valid_root(root->sval[0], &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    snprintf(row.root, sizeof row.root, "%s", root->sval[0]);
    if (group->count && !user->count) {
        vh_fail(&e, VH_EX_USAGE, "--group needs --user");
        rc = vc_error(&e);
        goto out;
    }
    if (user->count && vh_ident_resolve(user->sval[0], group->count ? group->sval[0] : NULL, &row, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    vh_provision p = {row.root, program->sval, program->count, row.has_user ? &row : NULL, print_note, NULL, 0, 0};
    if (vh_provision_run(&p, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    printf("provisioned %s: %d change%s, %d file%s already in place\n", row.root, p.written, p.written == 1 ? "" : "s",
           p.unchanged, p.unchanged == 1 ? "" : "s");

    /* What check would say about this jail with these programs. */
    struct vc_findings f = {0};
    f.out = stderr;
    vh_jailcheck jc = {row.root, &row, program->sval, program->count, 0, 1, 0};
    vh_jailcheck_run(&jc, vc_print_finding, &f);
    if (f.errors) {
        fprintf(stderr, "vhostctl: jail %s still has %ld error%s (above) that provision does not fix\n", row.root,
                f.errors, f.errors == 1 ? "" : "s");
        rc = VH_EX_CHECK_ERRORS;
    }
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
