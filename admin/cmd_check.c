/* check: the database, then every selected domain's jail (jailcheck.h).
 * Exit 0 clean (or only accepted findings, accept.h), 1 warnings only,
 * 2 errors. SERVICE ADDRESS: the row that serves the pair (vh_select). */
#include "vhostctl.h"

#include "accept.h"
#include "addr.h"
#include "db.h"
#include "dbcheck.h"
#include "env.h"
#include "exitcodes.h"
#include "inetd.h"
#include "ix.h"
#include "jail.h"
#include "jailcheck.h"
#include "manifest.h"
#include "row.h"
#include "select.h"
#include "store.h"
#include "valid.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One run-as uid and the jails it serves: a uid shared by domains with
 * different jails lets one tenant signal or ptrace the other (A13). */
struct uidroot {
    uint32_t uid;
    uint64_t root; /* FNV-1a of the root path */
    char label[VH_SERVICE_MAX + VH_KEY_TEXT + 2];
};

/* A host process and its uids (real, effective, saved, file system). */
struct hostproc {
    uint32_t uid[4];
    long pid;
    char comm[32];
};

struct state {
    int json;
    sqlite3 *h;             /* the database, in the check's read transaction */
    const char *db;         /* its path as given */
    struct hostproc *procs; /* K2: host processes, read once from /proc */
    size_t nprocs;
    int procs_read;
    long domains;
    const char *address; /* canonical filter, or NULL */
    const char *const *programs;
    int nprograms;
    struct uidroot *uids;
    size_t nuids, capuids;
    int oom;
    struct uidroot *byroot;      /* the same, sorted by root: a root service's jail shared (point 3) */
    char host_lang[129];         /* the host's default LANG, "" when none (point 4) */
    vh_accept_list acc;          /* the accepted findings (accept.h) */
    int all;                     /* --all: list the accepted findings too */
    long accepted;               /* findings an acceptance covered */
    FILE *accout;                /* text mode: their lines, printed after the others */
    vh_manifest_cache *hostsums; /* host files' checksums, each read once (manifest.h) */
    /* issue 17: the services whose inetd.conf lines run virtuald
     * --tls-sni, when that file was read (inetd_path not NULL) */
    const char *inetd_path;
    char (*sni)[VH_SERVICE_MAX + 1];
    size_t nsni;
    /* sql/008: the bases scanned deep already (each once per check) */
    char **bases;
    size_t nbases;
};

static int sni_entry(void *ctx, const vh_inetd_entry *en, vh_err *e)
{
    struct state *s = ctx;
    /* virtuald's SERVICE argument selects the rows, not the first column */
    if (en->form != VH_INETD_NEW || !en->tls_sni || !en->arg_service[0])
        return 0;
    char(*n)[VH_SERVICE_MAX + 1] = realloc(s->sni, (s->nsni + 1) * sizeof *n);
    if (!n)
        return vh_fail(e, VH_EX_OSERR, "out of memory");
    s->sni = n;
    memcpy(s->sni[s->nsni++], en->arg_service, sizeof *n);
    return 0;
}

/* Read which services inetd.conf at path runs with --tls-sni. A file that
 * is not there, or cannot be read, is no finding: the super-server may be
 * xinetd, tcpserver or systemd, whose files check does not read (then
 * s->inetd_path stays NULL and nothing is said). */
static void read_inetd(struct state *s, const char *path)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            char *nb = cap < (1u << 24) ? realloc(buf, cap ? cap * 2 : 8192) : NULL;
            if (!nb)
                break;
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    int ok = !ferror(fp) && feof(fp);
    fclose(fp);
    vh_inetd_stats st;
    vh_inetd_ops ops = {sni_entry, NULL};
    vh_err e;
    if (ok && vh_inetd_scan(buf ? buf : "", len, &ops, s, &st, &e) == 0)
        s->inetd_path = path;
    free(buf);
}

/* 1 when a name row of service svc can ever be chosen: an inetd.conf
 * line of that service (any, for '*') runs virtuald --tls-sni, or a
 * trusted PROXY source for it may send AUTHORITY; or when check cannot
 * tell (no inetd.conf read). */
static int names_reachable(const struct state *s, const char *svc)
{
    if (!s->inetd_path)
        return 1;
    for (size_t i = 0; i < s->nsni; i++)
        if (!strcmp(svc, VH_SERVICE_ANY) || !strcmp(s->sni[i], svc))
            return 1;
    static const char sql[] = "SELECT 1 FROM proxy_sources WHERE service IN (?1, '*') OR ?1 = '*' LIMIT 1";
    sqlite3_stmt *st = NULL;
    int found = 1; /* a read error: say nothing rather than something wrong */
    if (s->h && sqlite3_prepare_v2(s->h, sql, sizeof sql, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, svc, -1, SQLITE_STATIC) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        found = rc == SQLITE_ROW || rc != SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return found;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int collect_uid(void *ctx, const vh_row *r)
{
    struct state *s = ctx;
    vh_accept_see_row(&s->acc, r);
    if (!r->has_user)
        return 0;
    if (s->nuids == s->capuids) {
        size_t cap = s->capuids ? s->capuids * 2 : 64;
        struct uidroot *n = realloc(s->uids, cap * sizeof *n);
        if (!n) {
            s->oom = 1;
            return 1;
        }
        s->uids = n;
        s->capuids = cap;
    }
    struct uidroot *u = &s->uids[s->nuids++];
    u->uid = r->uid;
    u->root = fnv(r->root);
    vc_domain_label(r, u->label, sizeof u->label);
    return 0;
}

static int by_uid(const void *a, const void *b)
{
    const struct uidroot *x = a, *y = b;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int by_root(const void *a, const void *b)
{
    const struct uidroot *x = a, *y = b;
    return x->root < y->root ? -1 : x->root > y->root;
}

/* Issue 13 point 3: a run-as domain with this jail, or NULL. */
static const struct uidroot *runas_in_jail(const struct state *s, const vh_row *r)
{
    if (!s->byroot)
        return NULL;
    struct uidroot key = {.root = fnv(r->root)};
    return bsearch(&key, s->byroot, s->nuids, sizeof key, by_root);
}

/* Issue 13 point 4: the host's default LANG, as systemd (/etc/locale.conf)
 * or Debian (/etc/default/locale) gives it to the super-server; "" when
 * neither sets one, or it is C or POSIX (always in a jail). */
static void read_host_lang(char *out, size_t n)
{
    static const char *const files[] = {"/etc/locale.conf", "/etc/default/locale"};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof files / sizeof files[0] && !out[0]; i++) {
        FILE *f = fopen(files[i], "re");
        if (!f)
            continue;
        char line[512];
        while (fgets(line, sizeof line, f)) {
            char *v = line + strspn(line, " \t");
            if (strncmp(v, "LANG=", 5) != 0)
                continue;
            v += 5;
            v[strcspn(v, "\r\n")] = '\0';
            size_t len = strlen(v);
            if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
                v[len - 1] = '\0';
                v++;
            }
            snprintf(out, n, "%s", v);
        }
        fclose(f);
    }
    if (strcmp(out, "C") == 0 || strcmp(out, "POSIX") == 0)
        out[0] = '\0';
}

/* Another domain with this uid and another jail, or NULL. */
static const struct uidroot *sharer(const struct state *s, const vh_row *r)
{
    struct uidroot key = {.uid = r->uid};
    if (s->nuids == 0)
        return NULL;
    const struct uidroot *u = bsearch(&key, s->uids, s->nuids, sizeof key, by_uid);
    if (!u)
        return NULL;
    while (u > s->uids && (u - 1)->uid == r->uid)
        u--;
    uint64_t mine = fnv(r->root);
    for (; u < s->uids + s->nuids && u->uid == r->uid; u++)
        if (u->root != mine)
            return u;
    return NULL;
}

/* What /proc/PID/status says of a process: its name, its uids and gids
 * (real, effective, saved, file system) and the first supplementary
 * group in the root services' user-namespace range (0: none). Returns
 * 0, or -1 when the process is gone or the uid and gid lines were not
 * read. */
struct procstatus {
    char comm[32];
    unsigned uid[4], gid[4];
    unsigned long long group_in_range;
};

static int read_status(long pid, struct procstatus *ps)
{
    char path[64], line[4096];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    memset(ps, 0, sizeof *ps);
    snprintf(ps->comm, sizeof ps->comm, "?");
    int have = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Name:\t", 6) == 0) {
            snprintf(ps->comm, sizeof ps->comm, "%s", line + 6);
            ps->comm[strcspn(ps->comm, "\n")] = '\0';
        } else if (sscanf(line, "Uid:\t%u\t%u\t%u\t%u", &ps->uid[0], &ps->uid[1], &ps->uid[2], &ps->uid[3]) == 4) {
            have |= 1;
        } else if (sscanf(line, "Gid:\t%u\t%u\t%u\t%u", &ps->gid[0], &ps->gid[1], &ps->gid[2], &ps->gid[3]) == 4) {
            have |= 2;
        } else if (strncmp(line, "Groups:", 7) == 0) {
            for (char *p = line + 7, *end; *p && !ps->group_in_range; p = end) {
                unsigned long long g = strtoull(p, &end, 10);
                if (end == p)
                    break;
                if (VH_IN_USERNS_RANGE(g))
                    ps->group_in_range = g;
            }
            break; /* the last line read */
        }
    }
    fclose(f);
    return have == 3 ? 0 : -1;
}

/* K2: every process outside a jail (its root is the host's /, and it is
 * in the host's PID namespace), with its uids. A process whose root is
 * elsewhere, or that is in a PID namespace of its own, is a jail's
 * service - since every row is pivoted, a running service's root reads
 * "/" too - and shares the uid by design (the domain's own). Best
 * effort: a process that ends while being read is left out. */
static void read_procs(struct state *s)
{
    s->procs_read = 1;
    struct stat mypid;
    DIR *d = opendir("/proc");
    if (!d)
        return;
    if (stat("/proc/self/ns/pid", &mypid) < 0) {
        closedir(d);
        return;
    }
    size_t cap = 0;
    struct dirent *de;
    long self = (long)getpid();
    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        long pid = strtol(de->d_name, NULL, 10);
        if (pid == self)
            continue;
        char p[64], root[8];
        snprintf(p, sizeof p, "/proc/%ld/root", pid);
        ssize_t n = readlink(p, root, sizeof root);
        if (n != 1 || root[0] != '/')
            continue;
        struct stat pidns;
        snprintf(p, sizeof p, "/proc/%ld/ns/pid", pid);
        if (stat(p, &pidns) < 0 || pidns.st_ino != mypid.st_ino || pidns.st_dev != mypid.st_dev)
            continue;
        struct procstatus ps;
        if (read_status(pid, &ps) < 0)
            continue;
        struct hostproc hp = {.pid = pid};
        memcpy(hp.uid, ps.uid, sizeof hp.uid);
        snprintf(hp.comm, sizeof hp.comm, "%s", ps.comm);
        if (s->nprocs == cap) {
            size_t nc = cap ? cap * 2 : 256;
            struct hostproc *np = realloc(s->procs, nc * sizeof *np);
            if (!np)
                break;
            s->procs = np;
            cap = nc;
        }
        s->procs[s->nprocs++] = hp;
    }
    closedir(d);
}

static const struct hostproc *host_sharer(struct state *s, uint32_t uid)
{
    if (!s->procs_read)
        read_procs(s);
    for (size_t i = 0; i < s->nprocs; i++)
        for (int k = 0; k < 4; k++)
            if (s->procs[i].uid[k] == uid)
                return &s->procs[i];
    return NULL;
}

/* Issue 11: every root service's user namespace maps its 0..65535 to
 * the host's VH_USERNS_BASE..; that namespace is owned by the first of
 * them. A host user or process with one of those ids would own every
 * root service's jail files through /proc/PID/root of a running one,
 * and could signal and trace them (red team). Said once per check, as
 * errors of "host": the users and groups in the host's database,
 * subordinate id ranges that overlap, and the processes (but root
 * services) that have such ids. */
static void check_userns_range(struct vc_findings *f)
{
    char problem[512], fix[512], path[64];
    snprintf(fix, sizeof fix,
             "give it an id outside %u-%u (usermod -u / groupmod -g, or the ID mapping's range), or build virtuald "
             "with another -DVH_USERNS_BASE",
             VH_USERNS_BASE, VH_USERNS_BASE + VH_USERNS_COUNT - 1);
    char range[256];
    snprintf(range, sizeof range,
             "is in the range root services' user namespaces map to (%u-%u): it would own every root service's "
             "jail files through a running service, and could signal and trace it",
             VH_USERNS_BASE, VH_USERNS_BASE + VH_USERNS_COUNT - 1);
    struct passwd *pw;
    setpwent();
    while ((pw = getpwent()) != NULL)
        if (VH_IN_USERNS_RANGE(pw->pw_uid) || VH_IN_USERNS_RANGE(pw->pw_gid)) {
            char name[4 * 64];
            vh_printable(pw->pw_name, name, sizeof name);
            snprintf(problem, sizeof problem, "user %s (uid %u, gid %u) %s", name, (unsigned)pw->pw_uid,
                     (unsigned)pw->pw_gid, range);
            vh_finding fi = {"host", VH_SEV_ERROR, "userns-range", "passwd", problem, fix};
            vc_print_finding(f, &fi);
        }
    endpwent();
    struct group *gr;
    setgrent();
    while ((gr = getgrent()) != NULL)
        if (VH_IN_USERNS_RANGE(gr->gr_gid)) {
            char name[4 * 64];
            vh_printable(gr->gr_name, name, sizeof name);
            snprintf(problem, sizeof problem, "group %s (gid %u) %s", name, (unsigned)gr->gr_gid, range);
            vh_finding fi = {"host", VH_SEV_ERROR, "userns-range", "group", problem, fix};
            vc_print_finding(f, &fi);
        }
    endgrent();
    /* subordinate ids (newuidmap): a range that overlaps lets a host
     * user make a user namespace whose ids are host ids in the range */
    static const char *const subs[] = {"/etc/subuid", "/etc/subgid"};
    for (int i = 0; i < 2; i++) {
        FILE *sf = fopen(subs[i], "re");
        if (!sf)
            continue;
        char line[512];
        while (fgets(line, sizeof line, sf)) {
            char who[256];
            unsigned long long first, count;
            if (sscanf(line, "%255[^:]:%llu:%llu", who, &first, &count) != 3 || count == 0)
                continue;
            if (first < (unsigned long long)VH_USERNS_BASE + VH_USERNS_COUNT && first + count > VH_USERNS_BASE) {
                char w[4 * sizeof who];
                vh_printable(who, w, sizeof w);
                snprintf(problem, sizeof problem,
                         "%s gives %s ids %llu-%llu, which overlap the range root services' "
                         "user namespaces map to (%u-%u): a user namespace of theirs could signal and trace every "
                         "root service",
                         subs[i], w, first, first + count - 1, VH_USERNS_BASE, VH_USERNS_BASE + VH_USERNS_COUNT - 1);
                vh_finding fi = {"host", VH_SEV_ERROR, "userns-range", subs[i], problem, fix};
                vc_print_finding(f, &fi);
            }
        }
        fclose(sf);
    }
    /* processes: any with an id in the range (the host's view, in the
     * status file, whatever namespace it is in), except a root service:
     * a process in a user namespace mapping exactly 0 VH_USERNS_BASE
     * VH_USERNS_COUNT, which only virtuald makes (a host user would need
     * such subordinate ids, reported above) */
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        struct procstatus ps;
        if (read_status(strtol(de->d_name, NULL, 10), &ps) < 0)
            continue;
        int hit = ps.group_in_range ? 2 : -1; /* 0 uid, 1 gid, 2 supplementary group */
        unsigned long long hitid = ps.group_in_range;
        for (int k = 0; k < 8 && hit < 0; k++) {
            unsigned id = k < 4 ? ps.uid[k] : ps.gid[k - 4];
            if (VH_IN_USERNS_RANGE(id)) {
                hit = k < 4 ? 0 : 1;
                hitid = id;
            }
        }
        if (hit < 0)
            continue;
        /* a root service: its namespace's map is virtuald's, exactly */
        snprintf(path, sizeof path, "/proc/%s/uid_map", de->d_name);
        FILE *mf = fopen(path, "re");
        if (mf) {
            unsigned long long a, b, c;
            int lines = 0, exact = 0;
            char line[256];
            while (fgets(line, sizeof line, mf)) {
                lines++;
                exact = sscanf(line, "%llu %llu %llu", &a, &b, &c) == 3 && a == 0 && b == VH_USERNS_BASE &&
                        c == VH_USERNS_COUNT;
            }
            fclose(mf);
            if (lines == 1 && exact)
                continue;
        }
        char c[4 * sizeof ps.comm];
        vh_printable(ps.comm, c, sizeof c);
        snprintf(problem, sizeof problem, "process %s (%s) runs with %s %llu, which %s", de->d_name, c,
                 hit == 0   ? "uid"
                 : hit == 1 ? "gid"
                            : "supplementary group",
                 hitid, range);
        snprintf(path, sizeof path, "/proc/%s", de->d_name);
        vh_finding fi = {"host", VH_SEV_ERROR, "userns-range", path, problem, fix};
        vc_print_finding(f, &fi);
    }
    closedir(d);
}

struct check_ctx {
    struct state *s;
    struct vc_findings *f;
    const vh_row *row; /* the domain being checked */
};

/* An accepted finding, apart from the others: counted, and listed only
 * with --all - as JSON, the finding with its acceptance; as text, a line
 * without a severity (scripts that count "warning [" count what is left). */
static void print_accepted(struct check_ctx *cc, const vh_finding *f, const vh_accepted *a)
{
    struct state *s = cc->s;
    s->accepted++;
    if (!s->all)
        return;
    if (cc->f->json) {
        vc_finding_json_open(cc->f, f);
        printf(", \"accepted\": {\"scope\": \"%s\", \"subject\": ", a->jail ? "jail" : "domain");
        vc_json_string(stdout, a->subject);
        printf(", \"path\": ");
        vc_json_string(stdout, a->path);
        printf(", \"reason\": ");
        vc_json_string(stdout, a->reason);
        printf(", \"uid\": %u, \"login\": ", (unsigned)a->uid);
        vc_json_string(stdout, a->login);
        printf(", \"time\": ");
        vc_json_string(stdout, a->time);
        printf("}}");
        return;
    }
    char why[4 * VH_ACCEPT_REASON_MAX], login[4 * VH_NAME_MAX];
    fprintf(s->accout ? s->accout : stdout, "%s: accepted [%s] %s: %s - reason: %s (%s, uid %u, %s)\n", f->domain,
            f->kind, f->path, f->problem, vh_printable(a->reason, why, sizeof why),
            vh_printable(a->login, login, sizeof login), (unsigned)a->uid, a->time);
}

/* Every finding of a domain comes here: accepted, or printed. */
static void check_finding(void *ctx, const vh_finding *f)
{
    struct check_ctx *cc = ctx;
    const vh_accepted *a = cc->row ? vh_accept_match(&cc->s->acc, cc->row, f) : NULL;
    if (a)
        print_accepted(cc, f, a);
    else
        vc_print_finding(cc->f, f);
}

/* An acceptance whose subject is gone (or its path): a warning until
 * unaccepted, before a later domain or jail of that name inherits it. */
static void report_stale(const vh_accepted *a, struct vc_findings *f)
{
    struct stat st;
    const char *why = NULL;
    if (!a->live && a->readded)
        why = "the domain was removed and added again since: accept it anew if it still holds";
    else if (!a->live)
        why = a->jail ? "no domain is served from this jail any more" : "the domain no longer exists";
    else if (a->jail && lstat(a->subject, &st) < 0 && errno == ENOENT)
        why = "the jail no longer exists";
    else if (a->path[0] && lstat(a->path, &st) < 0 && errno == ENOENT)
        why = "its path no longer exists";
    if (!why)
        return;
    char subj[4 * PATH_MAX], label[4 * PATH_MAX], path[4 * PATH_MAX], why_s[4 * VH_ACCEPT_REASON_MAX];
    char kind[4 * VH_ACCEPT_KIND_MAX], problem[3 * 4 * PATH_MAX], fix[3 * 4 * PATH_MAX];
    vh_printable(a->subject, subj, sizeof subj);
    vh_printable(a->kind, kind, sizeof kind);
    snprintf(label, sizeof label, "%s", subj);
    if (!a->jail) /* "SERVICE ADDRESS" -> "SERVICE/ADDRESS", as findings name a domain */
        label[strcspn(label, " ")] = '/';
    vh_printable(a->path[0] ? a->path : a->subject, path, sizeof path);
    snprintf(problem, sizeof problem, "accepted finding %s (\"%s\") names what is gone: %s", kind,
             vh_printable(a->reason, why_s, sizeof why_s), why);
    int any = !a->jail && strncmp(subj, "* ", 2) == 0; /* quoted for the shell */
    snprintf(fix, sizeof fix, "vhostctl unaccept %s --%s %s%s%s%s", kind, a->jail ? "jail" : "domain", any ? "'*'" : "",
             subj + (any ? 1 : 0), a->path[0] ? " --path " : "", a->path[0] ? path : "");
    vh_finding fi = {label, VH_SEV_WARNING, "accepted-stale", path, problem, fix};
    vc_print_finding(f, &fi);
}

/* Issue 14 point 4: the jail's manifest, each recorded file compared
 * with the jail's copy and the host's file now (manifest.h). A jail
 * without a manifest: nothing here. */
static void check_manifest(struct check_ctx *cc, const vh_row *r, const char *label)
{
    struct state *s = cc->s;
    if (!s->h || strcmp(r->root, "/") == 0)
        return;
    vh_manifest m = {0};
    vh_err e;
    char root[4 * PATH_MAX];
    vh_printable(r->root, root, sizeof root);
    int have = vh_manifest_load(s->h, r->root, &m, &e);
    if (have < 0) {
        vh_finding f = {label, VH_SEV_ERROR, "unreadable", root, e.msg, "see the message"};
        check_finding(cc, &f);
    }
    if (have <= 0) {
        vh_manifest_free(&m);
        return;
    }
    if (!s->hostsums)
        s->hostsums = vh_manifest_cache_new();
    int rootfd = open(r->root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    for (size_t i = 0; rootfd >= 0 && i < m.n; i++) {
        const vh_manifest_file *mf = &m.f[i];
        char jail[VH_SHA256_HEX], host[VH_SHA256_HEX], full[2 * PATH_MAX];
        char path[4 * PATH_MAX], hp[4 * PATH_MAX], src[4 * PATH_MAX], problem[16 * PATH_MAX], fix[8 * PATH_MAX];
        char a[13], b[13], c[13];
        snprintf(full, sizeof full, "%s%s", r->root, mf->path);
        vh_printable(full, path, sizeof path);
        vh_printable(mf->host, hp, sizeof hp);
        vh_printable(mf->source, src, sizeof src);
        uint64_t hsize = 0;
        int hr = vh_manifest_host_sha(s->hostsums, mf->host, host, &hsize);
        int jr = hr < 0 ? 0 : vh_manifest_jail_sha(rootfd, mf->path, hsize > mf->size ? hsize : mf->size, jail);
        if (jr < 0 || hr < 0) {
            snprintf(problem, sizeof problem, "cannot read %s to compare it with its manifest: %s", hr < 0 ? hp : path,
                     strerror(errno));
            vh_finding f = {label,        VH_SEV_ERROR,
                            "unreadable", hr < 0 ? hp : path,
                            problem,      "check the file and the directories above it"};
            check_finding(cc, &f);
            continue;
        }
        enum vh_manifest_state st = vh_manifest_judge(mf->sha, jr ? jail : NULL, hr ? host : NULL);
        vh_manifest_short(mf->sha, a);
        vh_manifest_short(jail, b);
        vh_manifest_short(host, c);
        snprintf(fix, sizeof fix, "vhostctl provision --refresh %s", root);
        vh_finding f = {label, VH_SEV_WARNING, "", path, problem, fix};
        switch (st) {
        case VH_MS_OK: continue;
        case VH_MS_JAIL_MISSING:
            f.severity = VH_SEV_ERROR;
            f.kind = "manifest-missing";
            snprintf(problem, sizeof problem,
                     "%s %s is in the jail's manifest (for %s) but not in the jail, or no longer a regular file there",
                     mf->kind, mf->path, src);
            break;
        case VH_MS_STALE:
            f.kind = "stale-copy";
            snprintf(problem, sizeof problem,
                     "stale copy: security update not applied - the host's %s changed since it was copied into the "
                     "jail (copied %s, host now %s)",
                     hp, a, c);
            break;
        case VH_MS_BOTH_CHANGED:
            f.kind = "stale-copy";
            snprintf(problem, sizeof problem,
                     "stale copy: the jail's copy differs from the host's %s, and both differ from what was copied "
                     "(copied %s, jail %s, host now %s)",
                     hp, a, b, c);
            break;
        case VH_MS_JAIL_CHANGED:
            f.kind = "changed-copy";
            snprintf(problem, sizeof problem,
                     "the jail's copy was changed since provision copied it from %s (copied and host %s, jail %s)", hp,
                     a, b);
            snprintf(fix, sizeof fix, "vhostctl provision --refresh %s (copies the host's file again)", root);
            break;
        case VH_MS_HOST_GONE:
            f.kind = "host-file-gone";
            snprintf(problem, sizeof problem,
                     "the host file %s this copy came from (for %s) is gone: the copy can no longer be updated", hp,
                     src);
            snprintf(fix, sizeof fix,
                     "vhostctl provision --refresh %s (takes it off the manifest when no request needs it any more); "
                     "when one does, reinstall the file on the host, or vhostctl provision %s --forget NAME",
                     root, root);
            break;
        }
        check_finding(cc, &f);
    }
    if (rootfd < 0 && errno != ENOENT) {
        char problem[PATH_MAX + 128];
        snprintf(problem, sizeof problem, "cannot open the jail to compare it with its manifest: %s", strerror(errno));
        vh_finding f = {label, VH_SEV_ERROR, "unreadable", root, problem, "see the other findings of the jail"};
        check_finding(cc, &f);
    }
    if (rootfd >= 0)
        close(rootfd);
    vh_manifest_free(&m);
}

/* Is the base's directory (st) writable by r's run-as user: its owner,
 * or a group of the user with g+w, or o+w? */
static int runas_can_write(const vh_row *r, const struct stat *st)
{
    if (st->st_mode & S_IWOTH)
        return 1;
    if (st->st_uid == r->uid && (st->st_mode & S_IWUSR))
        return 1;
    if (!(st->st_mode & S_IWGRP))
        return 0;
    if (st->st_gid == r->gid)
        return 1;
    for (int i = 0; i < r->ngroups; i++)
        if (st->st_gid == r->groups[i])
            return 1;
    return 0;
}

/* sql/008: a row's base. Once per base, the jail rules over it: the path
 * checker virtuald runs, the deep scan as for a root service (the
 * strictest: anything below etc, lib*, usr, bin, sbin not root's is an
 * error), the programs of --program (they live in the base) and its
 * manifest. Per row: the base's directories the run-as user could
 * write, and, in the jail, each mount point: missing or a symlink (an
 * error: virtuald refuses), or holding files the base hides (a
 * warning: the service never sees them). */
static void check_base(struct check_ctx *cc, const vh_row *r, const char *label)
{
    struct state *s = cc->s;
    char base[4 * PATH_MAX], root[4 * PATH_MAX], problem[9 * PATH_MAX + 256], fix[9 * PATH_MAX + 256];
    vh_printable(r->base, base, sizeof base);
    vh_printable(r->root, root, sizeof root);
    int seen = 0;
    for (size_t i = 0; i < s->nbases && !seen; i++)
        seen = strcmp(s->bases[i], r->base) == 0;
    if (!seen) {
        char **n = realloc(s->bases, (s->nbases + 1) * sizeof *n);
        if (n) {
            s->bases = n;
            if ((n[s->nbases] = strdup(r->base)) != NULL)
                s->nbases++;
        }
        vh_row br;
        vh_row_init(&br);
        snprintf(br.service, sizeof br.service, "%s", r->service);
        snprintf(br.address, sizeof br.address, "%s", r->address);
        snprintf(br.root, sizeof br.root, "%s", r->base);
        char blabel[VH_SERVICE_MAX + VH_KEY_TEXT + 8 + PATH_MAX];
        snprintf(blabel, sizeof blabel, "base %s", r->base);
        vh_jailcheck jc = {blabel, &br, s->programs, s->nprograms, 0, 1, 0, 1};
        vh_jailcheck_run(&jc, check_finding, cc);
        check_manifest(cc, &br, blabel);
    }
    vh_jail j;
    vh_err e;
    if (vh_jail_open(r, &j, &e) < 0)
        return; /* the jail's or the base's path findings say why */
    static const char *const dirs[VH_BASE_NDIRS] = VH_BASE_DIRS;
    for (int i = 0; i < VH_BASE_NDIRS; i++) {
        struct stat bst, jst;
        if (fstatat(j.basefd, dirs[i], &bst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(bst.st_mode))
            continue; /* not provided (a symlink: the deep scan and virtuald refuse it) */
        char where[PATH_MAX + 16];
        snprintf(where, sizeof where, "%s/%s", base, dirs[i]);
        if (r->has_user && runas_can_write(r, &bst)) {
            snprintf(
                problem, sizeof problem,
                "the base's %s is writable by the run-as user %s (uid %u): the service could change the programs "
                "of every domain of the base (virtuald mounts it read-only, but the user may write it on the host)",
                dirs[i], r->user, (unsigned)r->uid);
            snprintf(fix, sizeof fix, "chown root:root %s and chmod go-w %s", where, where);
            vh_finding f = {label, VH_SEV_ERROR, "base-writable", where, problem, fix};
            check_finding(cc, &f);
        }
        snprintf(where, sizeof where, "%s/%s", root, dirs[i]);
        int found = fstatat(j.fd, dirs[i], &jst, AT_SYMLINK_NOFOLLOW) == 0;
        if (!found || !S_ISDIR(jst.st_mode)) {
            int missing = !found;
            snprintf(problem, sizeof problem,
                     "%s, where the base's %s is bound, is %s: virtuald refuses every connection of the domain", where,
                     dirs[i],
                     missing                ? "missing"
                     : S_ISLNK(jst.st_mode) ? "a symlink"
                                            : "no directory");
            snprintf(fix, sizeof fix, "%svhostctl set %s %s --base %s (it makes the mount point)",
                     missing ? "" : "remove it, then ", r->service, r->address, base);
            vh_finding f = {label, VH_SEV_ERROR, "base-mount-point", where, problem, fix};
            check_finding(cc, &f);
            continue;
        }
        int dfd = openat(j.fd, dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        long hidden = 0;
        if (d) {
            struct dirent *de;
            while ((de = readdir(d)) != NULL)
                hidden += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
            closedir(d);
        } else if (dfd >= 0) {
            close(dfd);
        }
        if (hidden) {
            snprintf(problem, sizeof problem,
                     "%s holds %ld entr%s the base hides: the service sees the base's %s there, never these", where,
                     hidden, hidden == 1 ? "y" : "ies", dirs[i]);
            snprintf(fix, sizeof fix,
                     "move what the service needs out of %s (data and config belong elsewhere in the jail), then "
                     "empty it",
                     where);
            vh_finding f = {label, VH_SEV_WARNING, "base-hides", where, problem, fix};
            check_finding(cc, &f);
        }
    }
    vh_jail_close(&j);
}

static int check_row(void *ctx, const vh_row *r)
{
    struct check_ctx *cc = ctx;
    struct state *s = cc->s;
    if (s->address && strcmp(r->address, s->address) != 0)
        return 0;
    s->domains++;
    cc->row = r;
    char label[VH_SERVICE_MAX + VH_KEY_TEXT + 2];
    vc_domain_label(r, label, sizeof label);
    /* An unjailed mark whose reason is gone (the jail its root held
     * removed or moved by hand, or before vhostctl re-judged marks): an
     * error, and the jail is checked as the jail it is (K7 included). */
    vh_row asjail;
    char why[PATH_MAX + 128];
    vh_err ignored;
    if (r->unjailed && s->h && vc_unjailed_stale(s->h, s->db, r->root, why, sizeof why, &ignored) == 1) {
        char problem[PATH_MAX + 512], fix[1024], root[4 * PATH_MAX], w[4 * sizeof why];
        snprintf(problem, sizeof problem,
                 "marked unjailed, but its root is a jail now (%s): virtuald skips the set-uid exposure check (K7) "
                 "for it",
                 vh_printable(why, w, sizeof w));
        snprintf(fix, sizeof fix, "vhostctl set %s %s --unjailed off", r->service, r->address);
        vh_printable(r->root, root, sizeof root);
        vh_finding f = {label, VH_SEV_ERROR, "unjailed-stale", root, problem, fix};
        check_finding(cc, &f);
        asjail = *r;
        asjail.unjailed = 0;
        r = &asjail;
    }
    /* with a base (sql/008), the programs live there: check_base */
    vh_jailcheck jc = {label, r, r->base[0] ? NULL : s->programs, r->base[0] ? 0 : s->nprograms, 1, 1, 0, 0};
    const struct uidroot *inside = r->has_user ? NULL : runas_in_jail(s, r);
    vh_jailcheck_more more = {inside ? inside->label : NULL, s->host_lang[0] ? s->host_lang : NULL};
    vh_jailcheck_run_more(&jc, &more, check_finding, cc);
    check_manifest(cc, r, label);
    if (r->base[0])
        check_base(cc, r, label);
    const struct uidroot *u = r->has_user ? sharer(s, r) : NULL;
    if (u) {
        char problem[512], fix[1024];
        snprintf(problem, sizeof problem,
                 "run-as uid %u is also the uid of domain %s with another jail: each can signal and trace the other",
                 (unsigned)r->uid, u->label);
        snprintf(fix, sizeof fix, "give each jail a user of its own (useradd --system; vhostctl set %s %s --user NEW)",
                 r->service, r->address);
        char root[4 * PATH_MAX];
        vh_printable(r->root, root, sizeof root);
        vh_finding f = {label, VH_SEV_WARNING, "shared-uid", root, problem, fix};
        check_finding(cc, &f);
    }
    /* K2: a host process with the run-as uid can be signalled by the
     * service and, without a PID namespace, traced and made to run code
     * outside the jail. A warning: run-as nobody is common, and the
     * process may be gone tomorrow; the remedy is the same. */
    const struct hostproc *hp = r->has_user ? host_sharer(s, r->uid) : NULL;
    if (hp) {
        char problem[512], fix[1024], comm[4 * sizeof hp->comm], root[4 * PATH_MAX];
        vh_printable(hp->comm, comm, sizeof comm);
        snprintf(problem, sizeof problem,
                 "run-as uid %u (%s) is also the uid of host process %ld (%s) outside any jail: the service can "
                 "signal it, or trace it where no PID namespace separates them",
                 (unsigned)r->uid, r->user, hp->pid, comm);
        snprintf(fix, sizeof fix, "give each domain its own user (useradd --system; vhostctl set %s %s --user NEW)",
                 r->service, r->address);
        vh_printable(r->root, root, sizeof root);
        vh_finding f = {label, VH_SEV_WARNING, "shared-host-uid", root, problem, fix};
        check_finding(cc, &f);
    }
    /* issue 17 (fleet.md 3.4): a name row nothing can choose */
    int kind = vh_key_kind(r->address);
    if ((kind == VH_KEY_NAME || kind == VH_KEY_WILDCARD) && !names_reachable(s, r->service)) {
        char problem[1024], fix[1024], root[4 * PATH_MAX];
        snprintf(problem, sizeof problem,
                 "a %s row, but no line of %s runs virtuald --tls-sni for service %s and no trusted balancer sends "
                 "it a PROXY AUTHORITY: virtuald never learns a name, and the row is never chosen",
                 vh_key_kind_name(kind), s->inetd_path, r->service);
        int any = !strcmp(r->service, VH_SERVICE_ANY);
        snprintf(fix, sizeof fix,
                 "add --tls-sni to virtuald's options on the %s%s line%s of %s (a TLS port whose client speaks "
                 "first), or remove the row (vhostctl remove %s %s)",
                 any ? "TLS services'" : r->service, any ? "" : "", any ? "s" : "", s->inetd_path, r->service,
                 r->address);
        vh_printable(r->root, root, sizeof root);
        vh_finding f = {label, VH_SEV_WARNING, "name-never-chosen", root, problem, fix};
        check_finding(cc, &f);
    }
    cc->row = NULL;
    return 0;
}

/* Say which row serves SERVICE on ADDRESS when it is not their own. */
static void served_by(const struct vc_findings *f, const char *svc, const char *addr, const vh_row *row, int rule)
{
    if (strcmp(row->service, svc) == 0 && strcmp(row->address, addr) == 0)
        return;
    /* --json: stdout holds the array only */
    fprintf(f->json ? stderr : stdout, "%s on %s is served by the row %s %s (rule %d, %s)%s: checking that row\n", svc,
            addr, row->service, row->address, rule, vh_select_rule_name(rule),
            row->enabled ? "" : ", which is disabled: virtuald refuses the connection");
}

/* The row that serves SERVICE on key: for an address, virtuald's
 * selection (vh_select); for a key no connection has ('default', a
 * prefix, a name, a wildcard), that key's row of the service, else its
 * '*' row. The rule, 0 when none, -1 with e. */
static int select_key(sqlite3 *h, const char *svc, const char *key, vh_row *row, vh_err *e)
{
    int kind = vh_key_kind(key);
    if (kind == VH_KEY_ADDRESS)
        return vh_select(h, svc, key, NULL, 0, row, NULL, e);
    /* the service's rule; the '*' row's is the next (select.h) */
    int rule = kind == VH_KEY_DEFAULT    ? VH_RULE_DEFAULT
               : kind == VH_KEY_NAME     ? VH_RULE_NAME
               : kind == VH_KEY_WILDCARD ? VH_RULE_WILDCARD
                                         : VH_RULE_PREFIX;
    const char *const svcs[2] = {svc, VH_SERVICE_ANY};
    for (int i = 0; i < 2; i++) {
        if (vh_store_get(h, svcs[i], key, row, e) == 0)
            return rule + i;
        if (e->code != VH_EX_NOHOST)
            return -1;
    }
    return VH_RULE_NONE;
}

int vc_cmd_check(const char *db, int argc, char **argv)
{
    struct arg_str *service =
        arg_str0(NULL, NULL, "SERVICE", "only this service's domains ('*' for the any-service rows)");
    struct arg_str *address = arg_str0(
        NULL, NULL, "ADDRESS", "only the domain on this address, prefix (NET/LEN), 'default', name or wildcard");
    struct arg_str *program = arg_strn("p", "program", "NAME", 0, 64,
                                       "also check that NAME (absolute, or searched in " VH_SAFE_PATH
                                       ") and everything it needs are in each jail");
    struct arg_lit *json = arg_lit0(NULL, "json", "print one JSON array of findings");
    struct arg_lit *all =
        arg_lit0(NULL, "all", "also list the accepted findings (vhostctl accept), with reason, who and when");
    struct arg_file *inetd = arg_file0(NULL, "inetd-conf", "FILE",
                                       "where name rows must find virtuald --tls-sni lines (default /etc/inetd.conf; "
                                       "none there: not checked)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help");
    struct arg_file *dbo = arg_file0(NULL, "db", "FILE", "database path");
    struct arg_end *end = arg_end(10);
    void *table[] = {service, address, program, json, all, inetd, help, dbo, end};
    const int n = (int)(sizeof table / sizeof table[0]);
    int rc = vc_parse(vc_find("check"), table, n, argc, argv, &db);
    if (rc)
        goto out;

    vh_err e;
    struct state s = {0};
    struct vc_findings f = {0};
    f.json = json->count > 0;
    char addr[VH_KEY_TEXT];
    const char *svc = service->count ? service->sval[0] : NULL;
    if ((svc && vh_valid_service(svc, 1, &e) < 0) ||
        (address->count && vh_key_canon(address->sval[0], 1, addr, &e) < 0)) {
        rc = vc_error(&e);
        goto out;
    }
    s.address = address->count ? addr : NULL;
    s.programs = program->sval;
    s.nprograms = program->count;
    s.all = all->count > 0;
    read_inetd(&s, inetd->count ? inetd->filename[0] : "/etc/inetd.conf");

    /* The lookup index, before any connection is open (its check opens
     * the database file itself, ixstamp.c). */
    const char *ixwhy = NULL;
    vh_err ixe;
    vh_ix_state ix = vh_ix_current(db, &ixwhy, &ixe);

    sqlite3 *h = NULL;
    if ((rc = vc_open(db, &h)) != 0)
        goto out;
    char *accbuf = NULL;
    size_t acclen = 0;
    if (s.all && !f.json)
        s.accout = open_memstream(&accbuf, &acclen); /* NULL: printed in place */
    if (f.json)
        printf("[");
    if (ix != VH_IX_CURRENT) {
        char ixpath[PATH_MAX + 16], problem[sizeof ixe.msg + 64];
        snprintf(ixpath, sizeof ixpath, "%s%s", db, VH_IX_SUFFIX);
        int untrusted = ix == VH_IX_UNTRUSTED;
        snprintf(problem, sizeof problem, "%s%s", untrusted ? "" : "virtuald reads the database (correct, slower): ",
                 untrusted ? ixe.msg
                 : ixwhy   ? ixwhy
                           : "?");
        vh_finding fi = {"database",
                         untrusted ? VH_SEV_ERROR : VH_SEV_WARNING,
                         untrusted ? "index-untrusted" : "index-stale",
                         ixpath,
                         problem,
                         "vhostctl init (rebuilds the lookup index from the database)"};
        vc_print_finding(&f, &fi);
    }
    if (!svc)
        check_userns_range(&f);
    /* One read transaction: the uid pass and the checks see one state. */
    int r = vh_db_begin_read(h, &e);
    s.h = h;
    s.db = db;
    if (r == 0)
        r = vh_accept_load(h, &s.acc, &e);
    /* SERVICE ADDRESS: the row that serves it, as virtuald selects it
     * (PRODUCT §3): its own, the '*' row of the address, or a default. */
    vh_row *sel = NULL;
    if (r == 0 && svc && s.address && strcmp(svc, VH_SERVICE_ANY) != 0) {
        if (!(sel = malloc(sizeof *sel)))
            r = vh_fail(&e, VH_EX_OSERR, "out of memory");
        int rule = r == 0 ? select_key(h, svc, s.address, sel, &e) : 0;
        if (rule < 0)
            r = -1;
        else if (rule == VH_RULE_NONE)
            svc = NULL; /* nothing serves it: no domain checked, 68 below */
        else
            served_by(&f, svc, s.address, sel, rule);
        if (svc && rule > 0) {
            svc = sel->service;
            s.address = sel->address;
        }
    }
    const char *asked = service->count ? service->sval[0] : NULL;
    if (r == 0)
        vh_dbcheck(h, db, vc_print_finding, &f);
    if (r == 0)
        r = vh_store_each(h, NULL, collect_uid, &s, &e);
    if (r == 0 && s.oom)
        r = vh_fail(&e, VH_EX_OSERR, "out of memory");
    /* K8: jails inside jails, the database inside a jail */
    if (r == 0 && vc_nest(h, db, NULL, &f, &e) < 0)
        r = -1;
    if (r == 0) {
        if (s.nuids > 1) /* qsort of NULL, 0 is undefined */
            qsort(s.uids, s.nuids, sizeof *s.uids, by_uid);
        if (s.nuids > 0 && (s.byroot = malloc(s.nuids * sizeof *s.byroot)) != NULL) {
            memcpy(s.byroot, s.uids, s.nuids * sizeof *s.byroot);
            qsort(s.byroot, s.nuids, sizeof *s.byroot, by_root);
        } else if (s.nuids > 0) {
            r = vh_fail(&e, VH_EX_OSERR, "out of memory");
        }
        read_host_lang(s.host_lang, sizeof s.host_lang);
    }
    if (r == 0) {
        struct check_ctx cc = {&s, &f, NULL};
        if (!(asked && !svc)) /* nothing serves SERVICE on ADDRESS */
            r = vh_store_each(h, svc, check_row, &cc, &e);
    }
    /* Stale acceptances: only a check of everything saw every row. */
    for (size_t i = 0; r == 0 && !asked && !s.address && i < s.acc.n; i++)
        report_stale(&s.acc.a[i], &f);
    vh_db_rollback(h);
    free(s.uids);
    free(s.byroot);
    free(s.procs);
    free(s.sni);
    for (size_t i = 0; i < s.nbases; i++)
        free(s.bases[i]);
    free(s.bases);
    vh_manifest_cache_free(s.hostsums);
    free(sel);
    vh_accept_free(&s.acc);
    if (s.accout) {
        fclose(s.accout);
        if (acclen && !f.json)
            printf("accepted findings (vhostctl unaccept shows them again):\n%s", accbuf);
    }
    free(accbuf);
    if (f.json)
        printf("%s]\n", f.shown ? "\n" : "");
    if ((rc = vc_read_close(h, r, &e)) != 0)
        goto out;
    if (asked && s.domains == 0) {
        fprintf(stderr, "vhostctl: no domain for service %s%s%s - see vhostctl list\n", asked,
                address->count ? " on " : "", address->count ? addr : "");
        rc = VH_EX_NOHOST;
        goto out;
    }
    if (!f.json) {
        printf("checked the database and %ld domain%s: %ld error%s, %ld warning%s", s.domains,
               s.domains == 1 ? "" : "s", f.errors, f.errors == 1 ? "" : "s", f.warnings, f.warnings == 1 ? "" : "s");
        if (s.accepted)
            printf(", %ld accepted%s", s.accepted, s.all ? "" : " (vhostctl check --all lists them)");
        printf("\n");
    }
    rc = f.errors ? VH_EX_CHECK_ERRORS : f.warnings ? VH_EX_REFUSED : VH_EX_OK;
out:
    arg_freetable(table, (size_t)n);
    return rc < 0 ? 0 : rc;
}
