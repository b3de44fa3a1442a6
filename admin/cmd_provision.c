/* provision: build or complete a jail (provision.h), then check it the
 * way `check` would (jailcheck.h) and print what is still wrong. */
#include "vhostctl.h"

#include "exitcodes.h"
#include "ident.h"
#include "jailcheck.h"
#include "provision.h"
#include "valid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_USERS 16

static void print_note(void *ctx, const char *what, const char *path)
{
    (void)ctx;
    if (strcmp(what, "unchanged") != 0)
        printf("%s %s\n", what, path);
}

/* Several --users: the jail is checked once per identity, and what is
 * the same for all (most findings) is printed once. */
struct once {
    struct vc_findings *f;
    uint64_t seen[1024];
    int n;
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h * 1099511628211u; /* a separator */
}

static void print_once(void *ctx, const vh_finding *fi)
{
    struct once *o = ctx;
    uint64_t h = fnv(fnv(fnv(14695981039346656037u, fi->kind), fi->path), fi->problem);
    for (int i = 0; i < o->n; i++)
        if (o->seen[i] == h)
            return;
    if (o->n < (int)(sizeof o->seen / sizeof o->seen[0]))
        o->seen[o->n++] = h;
    vc_print_finding(o->f, fi);
}

int vc_cmd_provision(const char *db, int argc, char **argv)
{
    struct arg_str *root = arg_str1(NULL, NULL, "ROOT", "the jail directory (created root-owned 0755 when missing)");
    struct arg_str *program = arg_strn("p", "program", "PATH", 1, 64,
                                       "absolute host path of a program to install with its interpreter and libraries");
    struct arg_str *user =
        arg_strn("u", "user", "U", 0, MAX_USERS,
                 "a run-as user to merge (with its group) into the jail's /etc/passwd and /etc/group; repeatable");
    struct arg_str *group = arg_str0("g", "group", "G", "the group of a single --user (default: its primary group)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path (not used)");
    struct arg_end *end = arg_end(10);
    void *table[] = {root, program, user, group, help, dbo, end};
    vh_row *users = NULL;
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
    if (group->count && user->count != 1) {
        vh_fail(&e, VH_EX_USAGE, "--group needs exactly one --user (several --users each get their primary group)");
        rc = vc_error(&e);
        goto out;
    }
    users = calloc((size_t)user->count + 1, sizeof *users);
    if (!users) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto out;
    }
    for (int i = 0; i < user->count; i++) {
        snprintf(users[i].root, sizeof users[i].root, "%s", row.root);
        if (vh_ident_resolve(user->sval[i], group->count ? group->sval[0] : NULL, &users[i], &e) < 0) {
            rc = vc_error(&e);
            goto out;
        }
    }
    vh_provision p = {row.root, program->sval, program->count, users, user->count, print_note, NULL, 0, 0};
    if (vh_provision_run(&p, &e) < 0) {
        rc = vc_error(&e);
        goto out;
    }
    printf("provisioned %s: %d change%s, %d file%s already in place\n", row.root, p.written, p.written == 1 ? "" : "s",
           p.unchanged, p.unchanged == 1 ? "" : "s");

    /* What check would say about this jail with these programs, for
     * each run-as identity (a root service when there is none). */
    struct vc_findings f = {0};
    f.out = stderr;
    struct once *o = calloc(1, sizeof *o);
    if (!o) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        rc = vc_error(&e);
        goto out;
    }
    o->f = &f;
    for (int i = 0; i < (user->count ? user->count : 1); i++) {
        vh_jailcheck jc = {row.root, user->count ? &users[i] : &row, program->sval, program->count, 0, 1, 0};
        vh_jailcheck_run(&jc, print_once, o);
    }
    free(o);
    if (f.errors) {
        fprintf(stderr, "vhostctl: jail %s still has %ld error%s (above) that provision does not fix\n", row.root,
                f.errors, f.errors == 1 ? "" : "s");
        rc = VH_EX_CHECK_ERRORS;
    }
out:
    free(users);
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
