/* virtuald - IP-based virtual hosting for any inetd service.
 *
 * Started by a super-server once per connection, with the connection on
 * fd 0. Phase 1 "decide": learn the local address, select the domain in
 * the database (read-only, trusted, closed again) and build the service's
 * environment. Phase 2 "apply": enter the jail, drop privileges, exec.
 * Phase 2 only consumes what phase 1 produced. Any doubt means no exec:
 * one syslog line, an exit status from exitcodes.h, nothing on the socket.
 */
#include "addr.h"
#include "args.h"
#include "cgroup.h"
#include "db.h"
#include "domain.h"
#include "env.h"
#include "err.h"
#include "exitcodes.h"
#include "fdutil.h"
#include "jail.h"
#include "log.h"
#include "priv.h"
#include "reap.h"
#include "timing.h"
#include "valid.h"

#include <argtable2.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

extern char **environ;

/* A stalled filesystem or a database locked forever must not pin a
 * process per connection: SIGALRM's default action ends virtuald. The
 * busy timeout (2 s) fits well inside (THREATS F14, J1). */
#define VH_DEADLINE_S 10

/* Everything phase 2 needs, produced by phase 1. */
struct target {
    const char *service;
    char *const *argv;  /* PROGRAM ARG..., untouched */
    vh_conn conn;
    vh_decision d;
    vh_env env;
    int verbose;
    vh_cgroup cg;   /* K10: the root service's pids cgroup */
    int pids;       /* 1: cg is open */
};

static void fmt_endpoint(const vh_endpoint *ep, char *out, size_t n)
{
    if (ep->family == AF_INET6)
        snprintf(out, n, "[%s]:%u", ep->text, ep->port);
    else if (ep->text[0])
        snprintf(out, n, "%s:%u", ep->text, ep->port);
    else
        snprintf(out, n, "-");
}

static int refuse(const struct target *t, const vh_err *e)
{
    char local[96] = "-", remote[96] = "-", svc[300], why[3 * sizeof e->msg];
    if (t) {
        fmt_endpoint(&t->conn.local, local, sizeof local);
        fmt_endpoint(&t->conn.remote, remote, sizeof remote);
    }
    vh_log_value(t && t->service ? t->service : "-", svc, sizeof svc);
    vh_log_value(e->msg, why, sizeof why);
    int prio = (e->code == VH_EX_NOHOST || e->code == VH_EX_UNAVAILABLE) ? LOG_WARNING : LOG_ERR;
    vh_log(prio, "refused service=%s local=%s remote=%s status=%d reason=%s", svc, local, remote, e->code, why);
    return e->code;
}

static int is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Phase 2: enter the jail and drop privileges. Each step's position is
 * fixed; the comments say why. Returns 0 or -1 with e filled. */
static int apply(struct target *t, vh_err *e)
{
    const vh_row *r = &t->d.row;
    vh_jail j;
    /* Open the jail through the path checker while we can still see the
     * whole host path (every component root-owned, no symlink). */
    if (vh_jail_open(r->root, &j, e) < 0)
        return -1;
    VH_MARK("jail_walk");
    if (r->has_user) {
        /* Groups and gid before the jail and before the uid: once the uid
         * is dropped they can no longer be changed (B1). */
        if (vh_priv_set_groups(r->gid, r->groups, r->ngroups, e) < 0)
            goto fail;
        VH_MARK("groups_gid");
        /* chroot needs CAP_SYS_CHROOT, so it comes before setuid; after
         * setuid the service can never chroot again (A1). */
        if (vh_jail_chroot(&j, e) < 0)
            return -1;
        VH_MARK("chroot");
        /* The bounding set needs CAP_SETPCAP: before setuid. */
        if (vh_caps_limit(1, e) < 0 || vh_priv_no_new_privs(e) < 0)
            return -1;
        VH_MARK("caps_nnp");
        /* Last: the uid, then prove root cannot come back (B3). */
        int rc = vh_priv_set_uid(r->uid, r->gid, e);
        VH_MARK("uid_verify");
        return rc;
    }
    /* Root service: no supplementary groups, gid 0 (B2). */
    if (vh_priv_set_groups(0, NULL, 0, e) < 0)
        goto fail;
    /* pivot_root needs CAP_SYS_ADMIN, so the bounding set is reduced
     * only after it (dropping from the bounding set does not touch this
     * process's effective set, but keep the order obvious). */
    /* With its own PID and IPC namespaces the service cannot see,
     * signal or trace any process outside (A13). */
    if (vh_jail_pivot(&j, CLONE_NEWPID | CLONE_NEWIPC, e) < 0)
        return -1;
    VH_MARK("pivot_root");
    if (vh_caps_limit(0, e) < 0 || vh_priv_no_new_privs(e) < 0)
        return -1;
    VH_MARK("caps_nnp");
    return 0;
fail:
    vh_jail_close(&j);
    return -1;
}

/* K10: RLIMIT_NPROC never limits uid 0, so a root service's processes
 * are bounded per domain by a pids cgroup. Opened and created before
 * apply(): the jail's mount namespace no longer shows the hierarchy, and
 * nothing may be opened between jail entry and exec (A10). The tree's
 * first process enters it (run_root_tree); this parent never does and
 * removes the group once the tree is gone. No hierarchy: refused (fail closed),
 * unless the operator said "--pids-cgroup none". */
static int pids_open(struct target *t, const char *dir, uint32_t max, vh_err *e)
{
    if (dir && strcmp(dir, "none") == 0) {
        vh_log(LOG_WARNING,
               "unbounded service=%s domain=%s/%s: --pids-cgroup none, this root service's processes are not limited "
               "(THREATS K10)",
               t->service, t->d.row.service, t->d.row.address);
        return 0;
    }
    vh_cgroup_cfg cfg = {dir};
    if (vh_cgroup_open(&cfg, t->d.row.service, t->d.row.address, max, &t->cg, e) < 0)
        return -1;
    t->pids = 1;
    return 0;
}

/* exec PROGRAM; returns only on failure, with the refusal logged. */
static int exec_service(struct target *t)
{
    vh_err e;
    environ = t->env.vars;
    VH_TIMING_END();
    execvp(t->argv[0], t->argv);
    int err = errno;
    vh_fail(&e, err == ENOENT || err == ENOTDIR ? VH_EX_NOT_FOUND : VH_EX_CANNOT_EXEC,
            "cannot exec %s inside jail %s: %s - install it in the jail (vhostctl check names what is missing)",
            t->argv[0], t->d.row.root, strerror(err));
    return refuse(t, &e);
}

/* A root service, after unshare(CLONE_NEWPID): this process stays
 * outside as the service's parent, its child is PID 1 of the new
 * namespace and reaps, the grandchild is the service. Both virtuald
 * processes close the connection and pass the service's exit status on. */
static int run_root_tree(struct target *t)
{
    vh_err e;
    pid_t init = fork();
    if (init < 0) {
        vh_fail(&e, VH_EX_OSERR, "fork for the PID namespace: %s", strerror(errno));
        return refuse(t, &e);
    }
    if (init > 0) {
        for (int fd = 0; fd <= 2; fd++)
            close(fd);
        int status = vh_reap_until(init);
        if (t->pids)
            vh_cgroup_leave(&t->cg);   /* K10: the tree is gone */
        t->pids = 0;
        return status;
    }
    /* K10: into the domain's pids cgroup before the service's fork, so
     * the service and all it forks are counted. */
    if (t->pids && vh_cgroup_enter(&t->cg, &e) < 0)
        _exit(refuse(t, &e));
    pid_t svc = fork();
    if (svc < 0) {
        vh_fail(&e, VH_EX_OSERR, "fork of the service: %s", strerror(errno));
        _exit(refuse(t, &e));
    }
    if (svc == 0)
        _exit(exec_service(t));
    vh_log_close();
    if (vh_reap_retire() < 0) {
        kill(svc, SIGKILL);
        _exit(VH_EX_OSERR);
    }
    _exit(vh_reap_until(svc));
}

static void reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int main(int argc, char **argv)
{
    vh_err e = {0, ""};
    VH_TIMING_BEGIN();
    alarm(VH_DEADLINE_S);
    /* SQLite's process-wide settings must precede every other call. */
    vh_db_runtime_tune();
    /* Before anything is opened: fds 0-2 must be taken, or the syslog
     * socket or the database could become "the client" (D2). */
    if (vh_fd_fill_std(&e) < 0)
        return VH_EX_OSERR;
    vh_log_open("virtuald");
    VH_MARK("fds_openlog");

    int split = vh_argv_split(argc, argv);
    int nargs = split + 2 <= argc ? split + 2 : argc;
    struct arg_file *db = arg_file0(NULL, "db", "FILE", "database (default " VH_DB_DEFAULT_PATH ")");
    struct arg_lit *verbose = arg_lit0(NULL, "verbose", "log each step of the decision");
    struct arg_str *pidscg = arg_str0(NULL, "pids-cgroup", "DIR",
                                      "root services' per-domain pids cgroups go below DIR (default " VH_CGROUP_DEFAULT_DIR
                                      "; none: unbounded)");
    struct arg_int *maxprocs = arg_int0(NULL, "max-procs", "N", "processes per root service domain (default 1024)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help and exit");
    struct arg_lit *version = arg_lit0(NULL, "version", "print the version and exit");
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "service name as in inetd.conf's first column");
    struct arg_str *program = arg_str1(NULL, NULL, "PROGRAM [ARG...]", "the service, found with execvp inside the jail");
    struct arg_end *end = arg_end(10);
    void *table[] = {db, verbose, pidscg, maxprocs, help, version, service, program, end};
    int status = VH_EX_OK;
    struct target *t = NULL;
    if (arg_nullcheck(table) != 0) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        status = refuse(NULL, &e);
        goto out;
    }
    char **pargv = NULL;
    pargv = calloc((size_t)nargs + 1, sizeof *pargv);
    if (!pargv) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        status = refuse(NULL, &e);
        goto out;
    }
    memcpy(pargv, argv, sizeof(char *) * (size_t)nargs);
    pargv[nargs] = NULL;
    int nerr = arg_parse(nargs, pargv, table);
    if (help->count || version->count) {
        /* Never write to a socket: under inetd stdout is the client. */
        if (!is_socket(1)) {
            if (version->count) {
                printf("virtuald %s\n", VH_VERSION);
            } else {
                printf("Usage: virtuald");
                arg_print_syntax(stdout, table, "\n");
                printf("Started by a super-server with a TCP connection on fd 0: selects the domain for the\n"
                       "dialled local address, enters its jail, drops privileges and execs PROGRAM.\n\n");
                arg_print_glossary(stdout, table, "  %-24s %s\n");
                printf("\nExit status: 0 never (PROGRAM replaces virtuald), 64 usage, 66 no database,\n"
                       "67 bad run-as identity, 68 no domain, 69 domain disabled, 71 system call failed,\n"
                       "72 jail missing or unsafe, 75 database locked, 76 fd 0 not a TCP connection,\n"
                       "77 not root, 78 database untrusted/corrupt/wrong schema or no pids cgroup,\n"
                       "126/127 exec failed.\n"
                       "See virtuald(8).\n");
            }
        }
        goto out;
    }
    if (nerr > 0) {
        char buf[512] = "";
        FILE *m = fmemopen(buf, sizeof buf - 1, "w");
        if (m) {
            arg_print_errors(m, end, "virtuald");
            fclose(m);
        }
        for (char *p = buf; *p; p++)
            if (*p == '\n')
                *p = ' ';
        vh_fail(&e, VH_EX_USAGE, "bad command line: %s- usage: virtuald [--db FILE] [--pids-cgroup DIR] [--max-procs N] [--verbose] SERVICE PROGRAM [ARG...]", buf);
        status = refuse(NULL, &e);
        goto out;
    }

    t = calloc(1, sizeof *t);
    if (!t) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        status = refuse(NULL, &e);
        goto out;
    }
    VH_MARK("args");
    t->service = service->sval[0];
    t->argv = argv + split + 1;
    t->verbose = verbose->count > 0;
    const char *dbpath = db->count ? db->filename[0] : VH_DB_DEFAULT_PATH;

    /* ---- phase 1: decide ------------------------------------------ */
    if (vh_service_valid(t->service, 0, &e) < 0) {
        e.code = VH_EX_USAGE;
        status = refuse(t, &e);
        goto out;
    }
    if (geteuid() != 0) {
        vh_fail(&e, VH_EX_NOPERM, "virtuald must be started as root (it is uid %u) to enter jails", (unsigned)geteuid());
        status = refuse(t, &e);
        goto out;
    }
    if (vh_addr_from_socket(0, &t->conn, &e) < 0) {
        status = refuse(t, &e);
        goto out;
    }
    VH_MARK("address");
    if (t->verbose)
        vh_log(LOG_INFO, "detail service=%s local=%s database=%s", t->service, t->conn.local.text, dbpath);
    if (vh_decide(dbpath, t->service, t->conn.local.text, &t->d, &e) < 0) {
        status = refuse(t, &e);
        goto out;
    }
    if (t->verbose)
        vh_log(LOG_INFO, "detail decided rule=%s row=%s/%s source=%s%s%s%s", vh_rule_name(t->d.rule), t->d.row.service,
               t->d.row.address, t->d.from_index ? "index" : "database", t->d.from_index ? "" : " (index: ",
               t->d.from_index ? "" : (t->d.index_why ? t->d.index_why : "?"), t->d.from_index ? "" : ")");
    if (vh_env_build(environ, &t->conn, t->service, t->d.row.address, &t->env, &e) < 0) {
        status = refuse(t, &e);
        goto out;
    }
    VH_MARK("env");

    if (maxprocs->count && (maxprocs->ival[0] < 1 || maxprocs->ival[0] > 4194304)) {
        vh_fail(&e, VH_EX_USAGE, "--max-procs %d: give 1 to 4194304 (the kernel's PID limit)", maxprocs->ival[0]);
        status = refuse(t, &e);
        goto out;
    }
    /* The limit: --max-procs until vh_row carries the domain's own
     * max_procs (then the row's value, the option its default). */
    if (!t->d.row.has_user &&
        pids_open(t, pidscg->count ? pidscg->sval[0] : NULL,
                  maxprocs->count ? (uint32_t)maxprocs->ival[0] : VH_CGROUP_DEFAULT_MAX, &e) < 0) {
        status = refuse(t, &e);
        goto out;
    }
    VH_MARK("pids_cgroup");

    /* ---- phase 2: apply ------------------------------------------- */
    if (apply(t, &e) < 0) {
        status = refuse(t, &e);
        goto out;
    }
    /* Only fds 0-2 reach the service; the syslog socket stays usable
     * until exec because it is only marked close-on-exec (A3, D1). */
    if (vh_fd_cloexec_from(3, &e) < 0) {
        status = refuse(t, &e);
        goto out;
    }
    VH_MARK("cloexec");
    {
        char local[96], remote[96], root[PATH_MAX * 2], user[VH_NAME_MAX * 2], prog[PATH_MAX * 2];
        fmt_endpoint(&t->conn.local, local, sizeof local);
        fmt_endpoint(&t->conn.remote, remote, sizeof remote);
        vh_log_value(t->d.row.root, root, sizeof root);
        vh_log_value(t->d.row.has_user ? t->d.row.user : "root", user, sizeof user);
        vh_log_value(t->argv[0], prog, sizeof prog);
        vh_log(LOG_INFO, "served service=%s local=%s remote=%s domain=%s/%s rule=%s root=%s user=%s uid=%u gid=%u program=%s",
               t->service, local, remote, t->d.row.service, t->d.row.address, vh_rule_name(t->d.rule), root, user,
               t->d.row.has_user ? (unsigned)t->d.row.uid : 0u, t->d.row.has_user ? (unsigned)t->d.row.gid : 0u,
               prog);
    }
    VH_MARK("log_line");
    /* The deadline is virtuald's, not the service's: a pending alarm
     * would survive exec. */
    alarm(0);
    reset_signals();
    VH_MARK("signals");
    if (t->d.row.has_user)
        status = exec_service(t);
    else
        status = run_root_tree(t);
out:
    if (t && t->pids)
        vh_cgroup_leave(&t->cg);   /* K10: refused before the tree started */
    arg_freetable(table, sizeof table / sizeof table[0]);
    return status;
}
