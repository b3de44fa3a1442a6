/* provision: build or complete a jail (provision.h), from programs,
 * packages, files and profiles (profile.h), then check it the way
 * `check` would (jailcheck.h) and print what is still wrong. */
#include "vhostctl.h"

#include "exitcodes.h"
#include "ident.h"
#include "jailcheck.h"
#include "profile.h"
#include "provision.h"
#include "valid.h"

#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_USERS 16
#define MAX_PROFILES 16
#define MAX_LIST 1024 /* programs, packages, files, PAM services, after the profiles are added */

static void print_note(void *ctx, const char *what, const char *path)
{
    (void)ctx;
    if (strcmp(what, "unchanged") == 0)
        return;
    if (strcmp(what, "kept") == 0)
        printf("kept %s (the jail's own: provision writes a config file only where there is none)\n", path);
    else
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

/* A list of strings from the command line and the profiles, each once. */
struct list {
    const char *v[MAX_LIST];
    int n;
};

static int list_add(struct list *l, const char *s, const char *what, vh_err *e)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 0;
    if (l->n == MAX_LIST)
        return vh_fail(e, VH_EX_USAGE, "more than %d %s", MAX_LIST, what);
    l->v[l->n++] = s;
    return 0;
}

static int list_profiles(const char *dir)
{
    vh_err e;
    char **names;
    int n = vh_profile_list(dir, &names, &e);
    if (n < 0)
        return vc_error(&e);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        vh_profile p;
        if (vh_profile_load(dir, names[i], &p, &e) < 0) {
            fprintf(stderr, "vhostctl: %s\n", e.msg);
            rc = e.code ? e.code : VH_EX_DATAERR;
        } else {
            printf("%-16s %s\n", names[i], p.description ? p.description : "");
            for (int k = 0; k < p.ninetd; k++)
                printf("%-16s   inetd: %s\n", "", p.inetd[k]);
        }
        vh_profile_free(&p);
        free(names[i]);
    }
    free(names);
    if (n == 0)
        printf("no profiles in %s\n", dir);
    return rc;
}

/* Owner names of a profile's dir: root, @user, @group (the first
 * --user's), or a host name. */
static int owner_id(const char *name, int is_group, const vh_row *users, int nusers, const char *prof, uint32_t *out,
                    vh_err *e)
{
    if (strcmp(name, "root") == 0) {
        *out = 0;
        return 0;
    }
    if (name[0] == '@') {
        if (!nusers || !users[0].has_user)
            return vh_fail(e, VH_EX_USAGE,
                           "profile %s makes a directory owned by the service's user (%s): give --user U", prof, name);
        *out = strcmp(name, "@user") == 0 ? users[0].uid : users[0].gid;
        return 0;
    }
    if (is_group) {
        struct group *g = getgrnam(name);
        if (!g)
            return vh_fail(e, VH_EX_NOUSER, "profile %s needs group %s on the host - addgroup --system %s", prof, name,
                           name);
        *out = (uint32_t)g->gr_gid;
    } else {
        struct passwd *pw = getpwnam(name);
        if (!pw)
            return vh_fail(e, VH_EX_NOUSER,
                           "profile %s needs user %s on the host - adduser --system --group --no-create-home %s", prof,
                           name, name);
        *out = (uint32_t)pw->pw_uid;
    }
    return 0;
}

int vc_cmd_provision(const char *db, int argc, char **argv)
{
    struct arg_str *root = arg_str0(NULL, NULL, "ROOT", "the jail directory (created root-owned 0755 when missing)");
    struct arg_str *program = arg_strn("p", "program", "PATH", 0, 64,
                                       "absolute host path of a program to install with its interpreter and libraries");
    struct arg_str *profile =
        arg_strn(NULL, "profile", "NAME", 0, MAX_PROFILES,
                 "install what profile NAME (or a profile file's path) names: programs, packages, files, PAM "
                 "services, users, directories, config skeletons; repeatable");
    struct arg_str *package =
        arg_strn(NULL, "package", "NAME", 0, 64,
                 "copy an installed Debian package's runtime files (dpkg -L NAME) with the libraries of its ELF files");
    struct arg_str *file = arg_strn(NULL, "file", "PATH", 0, 256,
                                    "copy one host file as it is (an ELF object: with its libraries); no secret "
                                    "(a file others cannot read) is ever copied");
    struct arg_str *pam = arg_strn(NULL, "pam", "SERVICE", 0, 16,
                                   "copy PAM service SERVICE's stack (/etc/pam.d, when the jail has none) and modules");
    struct arg_lit *gconv =
        arg_lit0(NULL, "gconv", "copy the gconv modules (iconv) even when no program imports iconv");
    struct arg_str *user =
        arg_strn("u", "user", "U", 0, MAX_USERS,
                 "a run-as user to merge (with its group) into the jail's /etc/passwd and /etc/group; repeatable");
    struct arg_str *group = arg_str0("g", "group", "G", "the group of a single --user (default: its primary group)");
    struct arg_str *pdir =
        arg_str0(NULL, "profile-dir", "DIR", "where --profile NAME is looked up (default " VH_PROFILE_DIR ")");
    struct arg_lit *list =
        arg_lit0(NULL, "list-profiles", "list the profiles (name, description, inetd line) and exit");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path (not used)");
    struct arg_end *end = arg_end(10);
    void *table[] = {root, program, profile, package, file, pam, gconv, user, group, pdir, list, help, dbo, end};
    vh_row *users = NULL, *rows = NULL;
    vh_profile *profs = NULL;
    int nprofs = 0;
    struct list *progs = NULL, *pkgs = NULL, *files = NULL, *pams = NULL;
    vh_prov_account *accts = NULL;
    vh_prov_group *grps = NULL;
    vh_prov_dir *dirs = NULL;
    vh_prov_skel *skels = NULL;
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("provision"), table, n, argc, argv, &db);
    if (rc)
        goto out;
    vh_err e;
    const char *profdir = pdir->count ? pdir->sval[0] : VH_PROFILE_DIR;
    if (profdir[0] != '/') {
        vh_fail(&e, VH_EX_USAGE, "--profile-dir %s: give an absolute path", profdir);
        rc = vc_error(&e);
        goto out;
    }
    if (list->count) {
        if (root->count || program->count || profile->count || package->count || file->count || user->count) {
            vh_fail(&e, VH_EX_USAGE, "--list-profiles takes no ROOT and nothing to install (only --profile-dir)");
            rc = vc_error(&e);
        } else {
            rc = list_profiles(profdir);
        }
        goto out;
    }
    if (!root->count) {
        vh_fail(&e, VH_EX_USAGE, "provision needs ROOT, the jail directory (or --list-profiles)");
        rc = vc_error(&e);
        goto out;
    }
    if (!program->count && !profile->count && !package->count && !file->count) {
        vh_fail(&e, VH_EX_USAGE,
                "nothing to provision: give --program, --package, --file or --profile "
                "(vhostctl provision --list-profiles)");
        rc = vc_error(&e);
        goto out;
    }
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
    profs = calloc((size_t)profile->count + 1, sizeof *profs);
    progs = calloc(1, sizeof *progs);
    pkgs = calloc(1, sizeof *pkgs);
    files = calloc(1, sizeof *files);
    pams = calloc(1, sizeof *pams);
    if (!users || !profs || !progs || !pkgs || !files || !pams) {
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
    int naccts = 0, ngrps = 0, ndirs = 0, nskels = 0, want_gconv = gconv->count > 0;
    for (int i = 0; i < program->count; i++)
        if (list_add(progs, program->sval[i], "programs", &e) < 0)
            goto fail;
    for (int i = 0; i < package->count; i++)
        if (list_add(pkgs, package->sval[i], "packages", &e) < 0)
            goto fail;
    for (int i = 0; i < file->count; i++)
        if (list_add(files, file->sval[i], "files", &e) < 0)
            goto fail;
    for (int i = 0; i < pam->count; i++)
        if (list_add(pams, pam->sval[i], "PAM services", &e) < 0)
            goto fail;
    /* The profiles, loaded (and trusted) whole before anything is done. */
    int tusers = 0, tgroups = 0, tdirs = 0, tskels = 0;
    for (int i = 0; i < profile->count; i++, nprofs++) {
        if (vh_profile_load(profdir, profile->sval[i], &profs[i], &e) < 0) {
            nprofs++;
            goto fail;
        }
        tusers += profs[i].nusers;
        tgroups += profs[i].ngroups + profs[i].nusers;
        tdirs += profs[i].ndirs;
        tskels += profs[i].nskels;
    }
    accts = calloc((size_t)tusers + 1, sizeof *accts);
    grps = calloc((size_t)tgroups + 1, sizeof *grps);
    dirs = calloc((size_t)tdirs + 1, sizeof *dirs);
    skels = calloc((size_t)tskels + 1, sizeof *skels);
    if (!accts || !grps || !dirs || !skels) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        goto fail;
    }
    /* The identities a profile names are the host's (STYLE: resolve on
     * the host, never trust the jail's files); copied into the jail's
     * /etc/passwd and /etc/group by the merge of point 1. */
    rows = calloc((size_t)tusers + 1, sizeof *rows);
    if (!rows) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        goto fail;
    }
    int nrows = 0;
    for (int i = 0; i < nprofs; i++) {
        vh_profile *pr = &profs[i];
        for (int k = 0; k < pr->nprograms; k++)
            if (list_add(progs, pr->programs[k], "programs", &e) < 0)
                goto fail;
        for (int k = 0; k < pr->npackages; k++)
            if (list_add(pkgs, pr->packages[k], "packages", &e) < 0)
                goto fail;
        for (int k = 0; k < pr->nfiles; k++)
            if (list_add(files, pr->files[k], "files", &e) < 0)
                goto fail;
        for (int k = 0; k < pr->npam; k++)
            if (list_add(pams, pr->pam[k], "PAM services", &e) < 0)
                goto fail;
        want_gconv |= pr->gconv;
        for (int k = 0; k < pr->nusers; k++) {
            uint32_t uid;
            if (owner_id(pr->users[k].name, 0, NULL, 0, pr->name, &uid, &e) < 0)
                goto fail;
            vh_row *r = &rows[nrows++];
            memset(r, 0, sizeof *r);
            if (vh_ident_resolve(pr->users[k].name, NULL, r, &e) < 0)
                goto fail;
            accts[naccts++] =
                (vh_prov_account){r->user, r->group, r->uid, r->gid, pr->users[k].home, pr->users[k].shell};
        }
        for (int k = 0; k < pr->ngroups; k++) {
            uint32_t gid;
            if (owner_id(pr->groups[k], 1, NULL, 0, pr->name, &gid, &e) < 0)
                goto fail;
            grps[ngrps++] = (vh_prov_group){pr->groups[k], gid};
        }
        for (int k = 0; k < pr->ndirs; k++) {
            vh_prov_dir *d = &dirs[ndirs++];
            d->path = pr->dirs[k].path;
            d->mode = pr->dirs[k].mode;
            if (owner_id(pr->dirs[k].owner, 0, users, user->count, pr->name, &d->uid, &e) < 0 ||
                owner_id(pr->dirs[k].group, 1, users, user->count, pr->name, &d->gid, &e) < 0)
                goto fail;
        }
        for (int k = 0; k < pr->nskels; k++)
            skels[nskels++] = (vh_prov_skel){pr->skels[k].path, pr->skels[k].mode, pr->skels[k].data, pr->skels[k].len};
    }
    vh_prov_more more = {files->v, files->n, pkgs->v, pkgs->n, pams->v, pams->n, want_gconv, accts,
                         naccts,   grps,     ngrps,   dirs,    ndirs,   skels,   nskels};
    vh_provision p = {row.root, progs->v, progs->n, users, user->count, print_note, NULL, 0, 0, &more};
    if (vh_provision_run(&p, &e) < 0)
        goto fail;
    printf("provisioned %s: %d change%s, %d file%s already in place\n", row.root, p.written, p.written == 1 ? "" : "s",
           p.unchanged, p.unchanged == 1 ? "" : "s");
    for (int i = 0; i < nprofs; i++) {
        for (int k = 0; k < profs[i].ninetd; k++)
            printf("profile %s: start it with (inetd.conf): %s\n", profs[i].name, profs[i].inetd[k]);
        for (int k = 0; k < profs[i].nsyslog; k++)
            printf("profile %s: the service logs to %s%s in the jail (not created: a socket there is a way out of the "
                   "jail; give it one on purpose with your syslog daemon, and vhostctl accept socket)\n",
                   profs[i].name, row.root, profs[i].syslog[k]);
        for (int k = 0; k < profs[i].nnotes; k++)
            printf("profile %s: %s\n", profs[i].name, profs[i].notes[k]);
    }

    /* What check would say about this jail with these programs, for
     * each run-as identity (a root service when there is none). */
    struct vc_findings f = {0};
    f.out = stderr;
    struct once *o = calloc(1, sizeof *o);
    if (!o) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        goto fail;
    }
    o->f = &f;
    for (int i = 0; i < (user->count ? user->count : 1); i++) {
        vh_jailcheck jc = {row.root, user->count ? &users[i] : &row, progs->v, progs->n, 0, 1, 0};
        vh_jailcheck_run(&jc, print_once, o);
    }
    free(o);
    if (f.errors) {
        fprintf(stderr, "vhostctl: jail %s still has %ld error%s (above) that provision does not fix\n", row.root,
                f.errors, f.errors == 1 ? "" : "s");
        rc = VH_EX_CHECK_ERRORS;
    }
    goto out;
fail:
    rc = vc_error(&e);
out:
    for (int i = 0; i < nprofs; i++)
        vh_profile_free(&profs[i]);
    free(profs);
    free(users);
    free(rows);
    free(progs);
    free(pkgs);
    free(files);
    free(pams);
    free(accts);
    free(grps);
    free(dirs);
    free(skels);
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
