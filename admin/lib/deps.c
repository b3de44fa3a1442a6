#include "deps.h"

#include "elfread.h"
#include "env.h"
#include "exitcodes.h"
#include "rootfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILE ((size_t)1 << 30) /* larger objects are not read */
#define MAX_OBJECTS 4096           /* a bound on what one program can pull in */
#define MAX_SCRIPT_DEPTH 4         /* the kernel allows 4 levels of #! */

const char *vh_deps_kind_name(enum vh_dep_kind k)
{
    switch (k) {
    case VH_DEP_PROGRAM: return "program";
    case VH_DEP_SCRIPT: return "script interpreter";
    case VH_DEP_INTERP: return "ELF interpreter";
    case VH_DEP_LIBRARY: return "library";
    }
    return "object";
}

int vh_deps_cred_in_group(const vh_cred *cred, uint32_t gid)
{
    if (gid == cred->gid)
        return 1;
    for (int i = 0; i < cred->ngroups; i++)
        if (gid == cred->groups[i])
            return 1;
    return 0;
}

int vh_deps_cred_may(const vh_cred *cred, const struct stat *st, int want_exec)
{
    mode_t m = st->st_mode;
    if (!cred) /* root: reads anything, executes what has one x bit */
        return want_exec ? (m & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0 : 1;
    mode_t bit = want_exec ? S_IXOTH : S_IROTH;
    if (st->st_uid == cred->uid)
        return (m & (bit << 6)) != 0;
    if (vh_deps_cred_in_group(cred, st->st_gid))
        return (m & (bit << 3)) != 0;
    return (m & bit) != 0;
}

/* An object that was found and parsed: what later searches need. */
struct obj {
    char *path;
    char *runpath, *rpath; /* copies, NULL when absent */
    char **needed;
    int nneeded;
    vh_elfread id; /* class, byte order, machine only: strings cleared */
};

struct walk {
    int rootfd;
    const vh_deps_opts *o;
    vh_dep_cb cb;
    void *ctx;
    struct obj *objs;
    int nobjs, cap;
    char **missing; /* names reported missing once */
    int nmissing;
    int exe; /* index of the program's ELF object, -1 before */
    int stop;
    int oom;
};

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

static int seen_path(const struct walk *w, const char *path)
{
    for (int i = 0; i < w->nobjs; i++)
        if (strcmp(w->objs[i].path, path) == 0)
            return 1;
    return 0;
}

static void report(struct walk *w, enum vh_dep_kind kind, const char *name, const char *path, const char *by, int fd,
                   const struct stat *st, int extra, const char *problem)
{
    if (w->stop)
        return;
    vh_dep d = {kind, name, path, by, fd, st, extra, problem};
    if (w->cb(w->ctx, &d))
        w->stop = 1;
}

static void report_missing(struct walk *w, enum vh_dep_kind kind, const char *name, const char *by, const char *problem)
{
    for (int i = 0; i < w->nmissing; i++)
        if (strcmp(w->missing[i], name) == 0)
            return;
    char **m = realloc(w->missing, sizeof *m * (size_t)(w->nmissing + 1));
    char *copy = strdup(name);
    if (!m || !copy) {
        free(copy);
        if (m)
            w->missing = m;
        w->oom = 1;
        return;
    }
    w->missing = m;
    w->missing[w->nmissing++] = copy;
    report(w, kind, name, NULL, by, -1, NULL, 0, problem);
}

static int add_obj(struct walk *w, const char *path, const vh_elfread *elf)
{
    if (w->nobjs == w->cap) {
        int cap = w->cap ? w->cap * 2 : 16;
        struct obj *n = realloc(w->objs, sizeof *n * (size_t)cap);
        if (!n) {
            w->oom = 1;
            return -1;
        }
        w->objs = n;
        w->cap = cap;
    }
    struct obj *ob = &w->objs[w->nobjs];
    memset(ob, 0, sizeof *ob);
    ob->path = dup_or_null(path, &w->oom);
    if (elf) {
        ob->runpath = dup_or_null(elf->runpath, &w->oom);
        ob->rpath = dup_or_null(elf->rpath, &w->oom);
        ob->id.elfclass = elf->elfclass;
        ob->id.big_endian = elf->big_endian;
        ob->id.machine = elf->machine;
        if (elf->nneeded) {
            ob->needed = calloc((size_t)elf->nneeded, sizeof *ob->needed);
            if (!ob->needed)
                w->oom = 1;
            for (int i = 0; ob->needed && i < elf->nneeded; i++) {
                ob->needed[i] = dup_or_null(elf->needed[i], &w->oom);
                ob->nneeded = i + 1;
            }
        }
    }
    w->nobjs++;
    return w->oom ? -1 : w->nobjs - 1;
}

static void join(char *out, size_t n, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (dl == 1 && dir[0] == '/')
        dl = 0;
    snprintf(out, n, "%s%.*s/%s", dir[0] == '/' ? "" : "/", (int)dl, dir, name);
}

/* A loaded candidate: the file's bytes and its parse. */
struct cand {
    int fd;
    struct stat st;
    unsigned char *buf;
    size_t len;
    vh_elfread elf;
    int is_elf;    /* parsed as ELF */
    char why[256]; /* when not usable */
};

static void cand_free(struct cand *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    c->fd = -1;
    c->buf = NULL;
}

/* Open and read path inside the root. Returns 1 when opened (c filled,
 * c->why set when the file is not even readable as a regular file), 0
 * when it does not exist, -1 on another error (why set). */
static int load(struct walk *w, const char *path, struct cand *c)
{
    memset(c, 0, sizeof *c);
    c->fd = vh_rootfd_open(w->rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
    if (c->fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR || err == ELOOP)
            return 0;
        if (err == ENOSYS) {
            w->stop = 1;
            w->oom = 2;
        }
        snprintf(c->why, sizeof c->why, "cannot open: %s", strerror(err));
        return -1;
    }
    if (fstat(c->fd, &c->st) < 0 || !S_ISREG(c->st.st_mode)) {
        snprintf(c->why, sizeof c->why, "is not a regular file");
        return 1;
    }
    if (vh_rootfd_read_all(c->fd, MAX_FILE, &c->buf, &c->len) < 0) {
        snprintf(c->why, sizeof c->why, "cannot be read: %s", strerror(errno));
        return 1;
    }
    vh_err pe;
    if (vh_elfread_is_elf(c->buf, c->len)) {
        if (vh_elfread_parse(c->buf, c->len, &c->elf, &pe) < 0)
            snprintf(c->why, sizeof c->why, "is a damaged ELF file (%.200s)", pe.msg);
        else
            c->is_elf = 1;
    }
    return 1;
}

static void analyse(struct walk *w, enum vh_dep_kind kind, const char *name, const char *path, const char *by,
                    struct cand *c, int depth, int extra);

/* Resolve an absolute path named by an object (#! or PT_INTERP). */
static void resolve_path(struct walk *w, enum vh_dep_kind kind, const char *name, const char *by, int depth)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : "/", name);
    if (seen_path(w, path))
        return;
    struct cand c;
    int r = load(w, path, &c);
    if (r == 0) {
        report_missing(w, kind, name, by, "is missing");
    } else if (r < 0) {
        report_missing(w, kind, name, by, c.why);
    } else {
        analyse(w, kind, name, path, by, &c, depth, 0);
    }
    cand_free(&c);
}

/* Search a library for object ob (index). */
static void find_library(struct walk *w, int obi, const char *name)
{
    const struct obj *ob = &w->objs[obi];
    char origin[PATH_MAX];
    snprintf(origin, sizeof origin, "%s", ob->path);
    char *slash = strrchr(origin, '/');
    if (slash == origin)
        origin[1] = '\0';
    else if (slash)
        *slash = '\0';
    const char *by = ob->path;

    if (strchr(name, '/')) {
        resolve_path(w, VH_DEP_LIBRARY, name, by, 0);
        return;
    }
    /* Candidate directories, in ld.so's order (see deps.h). */
    const char *lists[4] = {NULL, NULL, NULL, NULL};
    if (ob->rpath && !ob->runpath)
        lists[0] = ob->rpath;
    if (w->exe >= 0 && w->exe != obi && w->objs[w->exe].rpath && !w->objs[w->exe].runpath)
        lists[1] = w->objs[w->exe].rpath;
    lists[2] = ob->runpath;
    const char *triple = vh_elfread_multiarch(&ob->id);
    char std[6][64];
    int nstd = 0;
    if (triple) {
        snprintf(std[nstd++], sizeof std[0], "/lib/%s", triple);
        snprintf(std[nstd++], sizeof std[0], "/usr/lib/%s", triple);
    }
    snprintf(std[nstd++], sizeof std[0], "/lib");
    snprintf(std[nstd++], sizeof std[0], "/usr/lib");
    snprintf(std[nstd++], sizeof std[0], "/lib64");
    snprintf(std[nstd++], sizeof std[0], "/usr/lib64");

    char unusable[PATH_MAX + 300] = "";
    char path[PATH_MAX], dir[PATH_MAX];
    int total = 3 + nstd + (w->o ? w->o->nextra : 0);
    for (int li = 0; li < total && !w->stop; li++) {
        /* One list (rpath, runpath) may hold several directories. */
        const char *list;
        int extra = 0;
        if (li < 3)
            list = lists[li];
        else if (li < 3 + nstd)
            list = std[li - 3];
        else {
            list = w->o->extra_dirs[li - 3 - nstd];
            extra = 1;
        }
        if (!list)
            continue;
        const char *p = list;
        while (*p) {
            const char *end = strchr(p, ':');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            char elem[PATH_MAX];
            if (n == 0 || n >= sizeof elem)
                goto next;
            memcpy(elem, p, n);
            elem[n] = '\0';
            /* $ORIGIN / ${ORIGIN}: the directory of the object itself. */
            if (strncmp(elem, "$ORIGIN", 7) == 0 && (elem[7] == '/' || !elem[7]))
                snprintf(dir, sizeof dir, "%s%s", origin, elem + 7);
            else if (strncmp(elem, "${ORIGIN}", 9) == 0 && (elem[9] == '/' || !elem[9]))
                snprintf(dir, sizeof dir, "%s%s", origin, elem + 9);
            else if (strchr(elem, '$'))
                goto next; /* $LIB, $PLATFORM: not expanded, skipped */
            else
                snprintf(dir, sizeof dir, "%s", elem);
            join(path, sizeof path, dir, name);
            if (seen_path(w, path))
                return;
            struct cand c;
            int r = load(w, path, &c);
            if (r == 1 && !c.why[0] && c.is_elf && vh_elfread_compatible(&ob->id, &c.elf)) {
                analyse(w, VH_DEP_LIBRARY, name, path, by, &c, 0, extra);
                cand_free(&c);
                return;
            }
            if (r != 0 && !unusable[0])
                snprintf(unusable, sizeof unusable, "%s %s", path,
                         c.why[0]    ? c.why
                         : !c.is_elf ? "is not an ELF file"
                                     : "is for another architecture");
            cand_free(&c);
        next:
            if (!end)
                break;
            p = end + 1;
        }
    }
    if (w->stop)
        return;
    char problem[sizeof unusable + 64];
    if (unusable[0])
        snprintf(problem, sizeof problem, "is not found in a usable form (%s)", unusable);
    else
        snprintf(problem, sizeof problem, "is not found in the library directories");
    report_missing(w, VH_DEP_LIBRARY, name, by, problem);
}

/* The #! line: the interpreter path, copied into out. 0 or -1. */
static int shebang(const unsigned char *buf, size_t len, char *out, size_t n)
{
    if (len < 2 || buf[0] != '#' || buf[1] != '!')
        return -1;
    size_t i = 2, lim = len < 256 ? len : 256; /* BINPRM_BUF_SIZE */
    while (i < lim && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    size_t start = i;
    while (i < lim && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\0')
        i++;
    if (i == start || i - start >= n)
        return -1;
    memcpy(out, buf + start, i - start);
    out[i - start] = '\0';
    return 0;
}

static void analyse(struct walk *w, enum vh_dep_kind kind, const char *name, const char *path, const char *by,
                    struct cand *c, int depth, int extra)
{
    if (w->stop)
        return;
    if (w->nobjs >= MAX_OBJECTS) {
        report(w, kind, name, path, by, c->fd, &c->st, extra, "is one object too many (more than 4096 in one program)");
        return;
    }
    int execd = kind != VH_DEP_LIBRARY;
    const vh_cred *cred = w->o ? w->o->cred : NULL;
    char problem[400];
    problem[0] = '\0';
    if (c->why[0])
        snprintf(problem, sizeof problem, "%s", c->why);
    else if (execd && !vh_deps_cred_may(cred, &c->st, 1))
        snprintf(problem, sizeof problem, "is not executable by %s (mode %04o, owner %u:%u)",
                 cred ? "the run-as user" : "root", (unsigned)(c->st.st_mode & 07777), (unsigned)c->st.st_uid,
                 (unsigned)c->st.st_gid);
    else if (!vh_deps_cred_may(cred, &c->st, 0) && (kind == VH_DEP_LIBRARY || !c->is_elf))
        snprintf(problem, sizeof problem, "is not readable by the run-as user (mode %04o, owner %u:%u)",
                 (unsigned)(c->st.st_mode & 07777), (unsigned)c->st.st_uid, (unsigned)c->st.st_gid);

    char interp[256];
    int script = !c->is_elf && !c->why[0] && (kind == VH_DEP_PROGRAM || kind == VH_DEP_SCRIPT) &&
                 shebang(c->buf, c->len, interp, sizeof interp) == 0;
    if (!problem[0] && !c->is_elf && !script)
        snprintf(problem, sizeof problem, "%s",
                 kind == VH_DEP_LIBRARY || kind == VH_DEP_INTERP ? "is not an ELF file"
                                                                 : "is neither an ELF executable nor a #! script");
    if (!problem[0] && c->is_elf && kind == VH_DEP_INTERP && w->exe >= 0 &&
        !vh_elfread_compatible(&w->objs[w->exe].id, &c->elf))
        snprintf(problem, sizeof problem, "is for another architecture than the program");

    int obi = add_obj(w, path, c->is_elf && !problem[0] ? &c->elf : NULL);
    report(w, kind, name, path, by, c->fd, &c->st, extra, problem[0] ? problem : NULL);
    if (obi < 0 || problem[0] || w->stop)
        return;
    if (script) {
        if (depth >= MAX_SCRIPT_DEPTH) {
            report_missing(w, VH_DEP_SCRIPT, interp, path, "is nested more than 4 #! levels deep");
            return;
        }
        resolve_path(w, VH_DEP_SCRIPT, interp, path, depth + 1);
        return;
    }
    if (execd && w->exe < 0)
        w->exe = obi;
    if (execd && c->elf.interp && kind != VH_DEP_INTERP) {
        /* ld.so is started by the kernel with the program: it is the
         * program's, looked up as an absolute path in the root. */
        char ip[PATH_MAX];
        snprintf(ip, sizeof ip, "%s", c->elf.interp);
        resolve_path(w, VH_DEP_INTERP, ip, path, depth);
    }
    /* Libraries: breadth-first over the objects list, in walk(). */
}

static int walk(int rootfd, const char *program, int module, const vh_deps_opts *o, vh_dep_cb cb, void *ctx, vh_err *e)
{
    struct walk w = {.rootfd = rootfd, .o = o, .cb = cb, .ctx = ctx, .exe = -1};
    int result = 0;
    if (!*program)
        return vh_fail(e, VH_EX_USAGE, "empty program name");
    if (module) {
        if (program[0] != '/')
            return vh_fail(e, VH_EX_USAGE, "module %s: give its absolute path", program);
        resolve_path(&w, VH_DEP_LIBRARY, program, NULL, 0);
    } else if (strchr(program, '/')) {
        resolve_path(&w, VH_DEP_PROGRAM, program, NULL, 0);
    } else {
        /* execvp: the first executable file along PATH; a file that is
         * there but not executable is remembered and reported when
         * nothing better follows. */
        char first_bad[PATH_MAX] = "";
        char path[PATH_MAX];
        const char *p = VH_SAFE_PATH;
        int found = 0;
        while (*p && !found && !w.stop) {
            const char *end = strchr(p, ':');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%.*s", (int)n, p);
            join(path, sizeof path, dir, program);
            struct cand c;
            int r = load(&w, path, &c);
            if (r == 1 && !c.why[0] && vh_deps_cred_may(o ? o->cred : NULL, &c.st, 1)) {
                analyse(&w, VH_DEP_PROGRAM, program, path, NULL, &c, 0, 0);
                found = 1;
            } else if (r != 0 && !first_bad[0]) {
                snprintf(first_bad, sizeof first_bad, "%s", path);
            }
            cand_free(&c);
            p = end ? end + 1 : p + n;
        }
        if (!found && !w.stop) {
            if (first_bad[0]) {
                struct cand c;
                if (load(&w, first_bad, &c) == 1)
                    analyse(&w, VH_DEP_PROGRAM, program, first_bad, NULL, &c, 0, 0);
                else
                    report_missing(&w, VH_DEP_PROGRAM, program, NULL, "cannot be opened");
                cand_free(&c);
            } else {
                report_missing(&w, VH_DEP_PROGRAM, program, NULL, "is not found in " VH_SAFE_PATH);
            }
        }
    }
    /* Breadth-first over the needed libraries, as ld.so loads them;
     * objs grows while we walk it. */
    for (int i = 0; i < w.nobjs && !w.stop && !w.oom; i++)
        for (int k = 0; k < w.objs[i].nneeded && !w.stop; k++)
            find_library(&w, i, w.objs[i].needed[k]);

    if (w.oom == 2)
        result =
            vh_fail(e, VH_EX_OSERR, "the kernel has no openat2 (Linux 5.6 or later is needed to look inside a jail)");
    else if (w.oom)
        result = vh_fail(e, VH_EX_OSERR, "out of memory while following the libraries of %s", program);
    for (int i = 0; i < w.nobjs; i++) {
        free(w.objs[i].path);
        free(w.objs[i].runpath);
        free(w.objs[i].rpath);
        for (int k = 0; k < w.objs[i].nneeded; k++)
            free(w.objs[i].needed[k]);
        free(w.objs[i].needed);
    }
    free(w.objs);
    for (int i = 0; i < w.nmissing; i++)
        free(w.missing[i]);
    free(w.missing);
    return result;
}

int vh_deps_walk(int rootfd, const char *program, const vh_deps_opts *o, vh_dep_cb cb, void *ctx, vh_err *e)
{
    return walk(rootfd, program, 0, o, cb, ctx, e);
}

int vh_deps_walk_module(int rootfd, const char *path, const vh_deps_opts *o, vh_dep_cb cb, void *ctx, vh_err *e)
{
    return walk(rootfd, path, 1, o, cb, ctx, e);
}
