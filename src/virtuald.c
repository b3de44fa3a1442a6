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
#include "decide.h"
#include "env.h"
#include "exitcodes.h"
#include "fd.h"
#include "jail.h"
#include "log.h"
#include "priv.h"
#include "proxyio.h"
#include "reap.h"
#include "row.h"
#include "running.h"
#include "sandbox.h"
#include "scope.h"
#include "select.h"
#include "slots.h"
#include "timing.h"
#include "tls.h"
#include "userns.h"
#include "valid.h"
#include "vherr.h"

#include <argtable2.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A stalled filesystem or a database locked forever must not pin a
 * process per connection: SIGALRM's default action ends virtuald. The
 * busy timeout (2 s) fits well inside (THREATS F14, J1). */
#define VH_DEADLINE_S 10

/* Everything phase 2 needs, produced by phase 1. */
struct target {
    const char *service;
    char *const *argv;    /* PROGRAM ARG..., untouched */
    vh_conn conn;         /* what selects: the original connection when proxied */
    vh_conn real;         /* the TCP connection on fd 0 (issue 15) */
    int via;              /* 1 or 2: conn came from a PROXY v1/v2 header */
    int warn_only;        /* a refusal that is the client's doing, not the operator's */
    int direct;           /* a balancer's own connection (LOCAL): served and ended lines only with --verbose */
    size_t unique_id_len; /* the header's UNIQUE_ID TLV (VIRTUALD_PROXY_ID) */
    /* issue 17: the host name that chose, normalised (hostname.h): the
     * ClientHello's server name, or the PROXY v2 AUTHORITY; "" none */
    char name[VH_HOSTNAME_MAX + 1];
    char authority[VH_HOSTNAME_MAX + 1]; /* the header's AUTHORITY, "" none */
    int has_authority;                   /* the header had an AUTHORITY, even an IP literal ("" above) */
    int tls_ended;                       /* the header's SSL TLV: the balancer ended the client's TLS */
    const char *name_from;               /* "sni", "authority" or "sni+authority" */
    int ech;                             /* the ClientHello carried encrypted_client_hello */
    unsigned char unique_id[VH_PROXY_UNIQUE_ID_MAX];
    vh_decision d;
    vh_env env;
    int verbose;
    vh_cgroup cg; /* K10: the root service's pids cgroup */
    int pids;     /* 1: cg is open */
    /* Issue 13 point 10: the service's end. */
    int running;             /* the domain's running file (running.h), -1: none */
    int running_dir;         /* its directory, for the release after the jail */
    struct timespec started; /* when the served line was written */
    int *svc_end;            /* PID 1 leaves the service's wait status in [0], 1 in [1] */
    int rootfd;              /* the jail's top after the pivot, for Landlock (-1: none) */
    int usernsfd;            /* a root service's user namespace (userns.h), -1: none */
    int svc_end_mem[2];      /* svc_end's home where PID 1 shares this memory */
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

/* Issue 15: " via=proxy-vN peer=BALANCER:PORT" for a proxied connection;
 * issue 17: " name=NAME from=sni|authority|sni+authority" when a host
 * name was found (validated by hostname.h: letters, digits, '-', '.'
 * only, so safe in a log line); else "". */
#define VH_VIA_TEXT (128 + VH_HOSTNAME_MAX)
static const char *fmt_via(const struct target *t, char *out, size_t n)
{
    char peer[96];
    size_t k = 0;
    out[0] = '\0';
    if (t && t->via) {
        fmt_endpoint(&t->real.remote, peer, sizeof peer);
        k = (size_t)snprintf(out, n, " via=proxy-v%d peer=%s", t->via, peer);
    }
    if (t && t->name[0] && k < n)
        snprintf(out + k, n - k, " name=%s from=%s", t->name, t->name_from);
    return out;
}

static int refuse(const struct target *t, const vh_err *e)
{
    char local[96] = "-", remote[96] = "-", svc[300], why[3 * sizeof e->msg], via[VH_VIA_TEXT] = "";
    if (t) {
        fmt_endpoint(&t->conn.local, local, sizeof local);
        fmt_endpoint(&t->conn.remote, remote, sizeof remote);
    }
    vh_log_value(t && t->service ? t->service : "-", svc, sizeof svc);
    vh_log_value(e->msg, why, sizeof why);
    int prio = (e->code == VH_EX_NOHOST || e->code == VH_EX_UNAVAILABLE || (t && t->warn_only)) ? LOG_WARNING : LOG_ERR;
    vh_log(prio, "refused service=%s local=%s remote=%s%s status=%d reason=%s", svc, local, remote,
           fmt_via(t, via, sizeof via), e->code, why);
    return e->code;
}

static int is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* K10: RLIMIT_NPROC never limits uid 0, so a root service's processes
 * are bounded per domain by a pids cgroup. Opened and created before
 * enter(): the jail's mount namespace no longer shows the hierarchy, and
 * nothing may be opened between jail entry and exec (A10). The tree's
 * first process (PID 1, run_tree) enters it; this parent never does and
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
    /* K4, K6: the system-call filter is the very last step: it must
     * follow no_new_privs and every call virtuald itself makes (its
     * jail entry uses calls the filter refuses). */
    if (vh_sandbox_seccomp(t->d.row.base[0] ? VH_SANDBOX_SHARED_BASE : 0, &e) < 0)
        return refuse(t, &e);
    VH_MARK("seccomp");
    environ = t->env.vars;
    VH_TIMING_END();
    execvp(t->argv[0], t->argv);
    int err = errno;
    vh_fail(&e, err == ENOENT || err == ENOTDIR ? VH_EX_NOT_FOUND : VH_EX_CANNOT_EXEC,
            "cannot exec %s inside jail %s: %s - %s", t->argv[0], t->d.row.root, strerror(err),
            err == EAGAIN ? "a process limit is reached (RLIMIT_NPROC of the super-server, or the domain's pids.max)"
                          : "install it in the jail (vhostctl check names what is missing)");
    return refuse(t, &e);
}

/* Phase 2, in virtuald: enter the jail. Every service gets a private
 * mount namespace whose root is the jail (its own chroot calls cannot
 * climb out, and no directory of the host's mounts can be passed to it
 * by another service of the jail), a row's base (sql/008) bound in, and
 * new PID and IPC namespaces for the processes started next, so that
 * the service can neither see, signal nor trace any host process, even
 * one of its own uid (A13, K2). Each step's position is fixed; the
 * comments say why. Returns 0 or -1 with e filled. */
static int enter(struct target *t, vh_err *e)
{
    const vh_row *r = &t->d.row;
    vh_jail j;
    /* Open the jail through the path checker while we can still see the
     * whole host path (every component root-owned, no symlink). */
    if (vh_jail_open(r, &j, e) < 0)
        return -1;
    VH_MARK("jail_walk");
    /* Groups and gid before the jail and before the uid: once the uid is
     * dropped they can no longer be changed (B1). A root service: no
     * supplementary groups, gid 0 (B2). */
    int rc = r->has_user ? vh_priv_set_groups(r->gid, r->groups, r->ngroups, e) : vh_priv_set_groups(0, NULL, 0, e);
    if (rc < 0) {
        vh_jail_close(&j);
        return -1;
    }
    VH_MARK("groups_gid");
    /* Every row, run-as or root, with a base or without: a mount
     * namespace of the service's own whose root is the jail (pivot_root,
     * the old root detached), with new PID and IPC namespaces for what
     * starts next. unshare needs CAP_SYS_ADMIN: before anything drops
     * it. Never a chroot: a jail's directory reached through the host's
     * mounts (a chroot in the host's namespace, or in a copy of it) is a
     * way out for any other service of the same jail in another
     * namespace - its root passed over a unix socket in the jail, ".."
     * from it meets no root of the receiver's and climbs into the host's
     * tree (as uid 0 when the receiver is a root service:
     * test_red_base_chroot.sh). A pivoted jail is the top of its own
     * namespace, nothing of the host above it: a root one service of
     * the jail passes another leads nowhere but into the jail (a host
     * process's own descriptor is Landlock's part, drop_and_exec). A
     * row with a base gets the base's directories bound read-only over
     * the jail's (sql/008). A run-as service drops its uid after this
     * and can mount nothing (no capabilities, seccomp). */
    /* A jailed root service runs as root of a user namespace of its own,
     * its jail an idmapped mount of that mapping (userns.h): host files
     * a host process hands it are no one's it has capabilities over.
     * Made before the PID namespace (its helper would be PID 1 there).
     * Not for a row that keeps CAP_NET_BIND_SERVICE: that counts only in
     * the host's user namespace (virtuald(8) says so), nor for a root of
     * "/" or an unjailed row, which the operator chose to leave open. */
    if (vh_row_userns(r)) {
        if (vh_userns_make(j.fd, 0, &t->usernsfd, e) < 0) {
            vh_jail_close(&j);
            return -1;
        }
        j.idmap_fd = t->usernsfd;
        VH_MARK("userns");
    }
    if (vh_jail_pivot(&j, CLONE_NEWPID | CLONE_NEWIPC, &t->rootfd, e) < 0)
        return -1;
    VH_MARK("pivot_root");
    /* "/" is the jail now: what PATH finds must be root's (A11). */
    uid_t owner = t->usernsfd >= 0 ? VH_USERNS_BASE : 0; /* root's, through an idmapped mount */
    if (vh_jail_check_system_dirs(r->root, owner, e) < 0 ||
        vh_jail_check_program(r->root, t->argv[0], VH_SAFE_PATH, owner, e) < 0)
        return -1;
    VH_MARK("system_dirs");
    return 0;
}

/* Phase 2, in the service's own process: the last steps before exec,
 * none of which virtuald's waiting processes may take themselves.
 * Returns only on failure, with the refusal logged. */
static int drop_and_exec(struct target *t)
{
    const vh_row *r = &t->d.row;
    vh_err e;
    /* A session of its own: kill(0, ...) reaches no super-server and no
     * other customer (K1), and no controlling terminal (K3). This
     * process is not a group leader (a fresh child), so setsid works. */
    if (setsid() < 0) {
        vh_fail(&e, VH_EX_OSERR, "setsid: %s", strerror(errno));
        return refuse(t, &e);
    }
    VH_MARK("vfork_setsid");
    /* A root service: root of its own user namespace from here on; its
     * capabilities below count only there (userns.h). */
    if (t->usernsfd >= 0) {
        if (vh_userns_enter(t->usernsfd, &e) < 0) /* closes this process's copy */
            return refuse(t, &e);
        VH_MARK("userns_enter");
    }
    /* The bounding set needs CAP_SETPCAP: before setuid. A run-as user
     * keeps nothing; a root service its allow-list (B5, K5). */
    int kind = r->has_user ? VH_CAPS_NONE : r->net_bind_service ? VH_CAPS_ROOT_NET_BIND : VH_CAPS_ROOT;
    if (vh_priv_caps_limit(kind, &e) < 0 || vh_priv_no_new_privs(&e) < 0)
        return refuse(t, &e);
    VH_MARK("caps_nnp");
    /* Last of the ids: the uid, then prove root cannot come back (B3). */
    if (r->has_user && vh_priv_set_uid(r->uid, r->gid, &e) < 0)
        return refuse(t, &e);
    VH_MARK("uid_verify");
    /* Landlock needs no_new_privs: after it. Scoped to its own domain,
     * the service reaches no host abstract unix socket and signals no
     * process outside (K5, K1, K2), and opens, makes, removes, renames,
     * truncates and runs files only beneath its jail's top: a directory
     * of the host's that a host process passes it over a unix socket
     * leads to no file (A1, test_red_pivot_fd.sh). */
    if (vh_scope_restrict(t->rootfd, &e) < 0)
        return refuse(t, &e);
    if (t->rootfd >= 0)
        close(t->rootfd); /* this process's copy (vfork copied the table) */
    VH_MARK("landlock");
    return exec_service(t);
}

/* The process tree after enter(): this process stays outside the new
 * PID namespace as the service's minimal parent (the super-server counts
 * it as the connection and gets the service's exit status from it). Its
 * child is PID 1 of the namespace and reaps orphans there (a service as
 * PID 1 would have the kernel ignore every signal it has no handler for:
 * SIGTERM from the super-server, its own SIGALRM timeouts). PID 1 starts
 * the service with vfork - it waits only until the exec - then gives up
 * its capabilities and descriptors.
 *
 * The cheapest start the kernel allows (issue 11): PID 1 is a clone that
 * shares this process's memory and descriptor table (CLONE_VM |
 * CLONE_FILES) and runs on a stack of its own while this process sleeps
 * (CLONE_VFORK) until PID 1 exits - no page tables copied, no second
 * descriptor table. Sharing the table is what makes PID 1's closing of
 * fds 0-2 close them here too, so the client sees EOF when the service
 * closes the connection, as before. This process forwards no signal
 * while it sleeps: the six it used to forward are blocked (PID 1
 * unblocks them for itself and the service); a super-server that stops
 * a connection by signalling its whole group (systemd's default
 * KillMode=control-group) reaches the service directly. The sanitizer
 * builds fork instead: ASan does not follow a clone onto a foreign
 * stack. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VH_SPAWN_FORK 1
#endif
#ifndef VH_SPAWN_FORK
static unsigned char pid1_stack[256 * 1024] __attribute__((aligned(64)));
#endif
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* PID 1 of the namespace; never returns. */
static int pid1(void *arg)
{
    struct target *t = arg;
    vh_err e;
    /* The outer virtuald blocked the signals it forwards; neither PID 1
     * nor the service may keep that mask (exec keeps it). */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    VH_MARK("fork_init");
    /* K10: into the domain's pids cgroup before the service starts, so
     * the service and all it forks are counted. */
    if (t->pids && vh_cgroup_enter(&t->cg, &e) < 0)
        _exit(refuse(t, &e));
    VH_MARK("pids_enter");
    /* Undumpable before the service exists: no moment in which the
     * service could trace PID 1 (the exec gives the service its own
     * dumpable flag back). vh_reap_retire sets it again. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        vh_fail(&e, VH_EX_OSERR, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
        _exit(refuse(t, &e));
    }
    pid_t svc = vfork();
    if (svc < 0) {
        vh_fail(&e, VH_EX_OSERR, "vfork of the service: %s", strerror(errno));
        _exit(refuse(t, &e));
    }
    if (svc == 0)
        _exit(drop_and_exec(t));
    if (t->usernsfd >= 0)
        close(t->usernsfd); /* the table this process shares with the outer virtuald */
    /* Issue 13 point 10: the tree ends with the outer virtuald, also
     * when that is killed (SIGKILL to PID 1 from the host kills every
     * process of the namespace); else PID 1 and the service would live
     * on, orphaned, where no super-server counts them. Set once the
     * service has exec'd (vfork returned): no system call is added
     * before the exec; the outer, asleep until PID 1 exits, is killed in
     * that moment only by hand. Dropping capabilities keeps it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
        kill(svc, SIGKILL);
        _exit(VH_EX_OSERR);
    }
    /* The syslog socket stays in the table PID 1 shares with the outer
     * virtuald, which writes the ended line with it (issue 13 point 10);
     * like DIR's descriptor, it is out of the service's reach: PID 1 is
     * undumpable and holds no capability. */
    if (vh_reap_retire() < 0) {
        kill(svc, SIGKILL);
        _exit(VH_EX_OSERR);
    }
    int ws = -1;
    int code = vh_reap_until(svc, &ws);
    if (ws != -1 && t->svc_end) {
        t->svc_end[0] = ws;
        t->svc_end[1] = 1;
    }
    _exit(code);
}

/* Issue 13 point 10: one line when the tree is gone. The service's own
 * wait status when PID 1 collected it; else PID 1's (killed from the
 * host: vhostctl disable --kill). */
static void log_ended(const struct target *t, int init_ws)
{
    int ws = t->svc_end && t->svc_end[1] ? t->svc_end[0] : init_ws;
    char local[96], remote[96], how[32];
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(now.tv_sec - t->started.tv_sec) * 1000 + (now.tv_nsec - t->started.tv_nsec) / 1000000;
    fmt_endpoint(&t->conn.local, local, sizeof local);
    fmt_endpoint(&t->conn.remote, remote, sizeof remote);
    if (ws == -1)
        snprintf(how, sizeof how, "status=unknown");
    else if (WIFSIGNALED(ws))
        snprintf(how, sizeof how, "signal=%d", WTERMSIG(ws));
    else
        snprintf(how, sizeof how, "status=%d", WEXITSTATUS(ws));
    char via[VH_VIA_TEXT];
    /* fleet.md 1.5: a balancer's checks every 2 s would flood the log */
    if (t->direct && !t->verbose)
        return;
    vh_log(t->direct ? LOG_DEBUG : LOG_INFO, "ended service=%s local=%s remote=%s%s domain=%s/%s %s duration_ms=%lld",
           t->service, local, remote, fmt_via(t, via, sizeof via), t->d.row.service, t->d.row.address, how, ms);
}

static int run_tree(struct target *t)
{
    vh_err e;
    /* K10: this process removes the domain's group once the tree is gone;
     * PID 1 closes its descriptors of the group when it enters (in the
     * shared table), so this process keeps a duplicate of DIR's. */
    vh_cgroup mine;
    memset(&mine, 0, sizeof mine);
    mine.dir_fd = mine.procs_fd = -1;
    if (t->pids) {
        mine = t->cg;
        mine.procs_fd = -1;
        mine.dir_fd = fcntl(t->cg.dir_fd, F_DUPFD_CLOEXEC, 3);
        if (mine.dir_fd < 0) {
            vh_fail(&e, VH_EX_OSERR, "duplicating the pids cgroup descriptor: %s", strerror(errno));
            return refuse(t, &e);
        }
    }
    sigset_t fwd, old;
    sigemptyset(&fwd);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&fwd, forwarded[i]);
    sigprocmask(SIG_BLOCK, &fwd, &old);
#ifdef VH_SPAWN_FORK
    /* A forked PID 1 shares no memory: the service's status comes back
     * through a shared page (sanitizer builds only). */
    void *end = mmap(NULL, sizeof t->svc_end_mem, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    t->svc_end = end == MAP_FAILED ? NULL : end;
    pid_t init = fork();
    if (init == 0)
        pid1(t);
    if (init > 0)
        sigprocmask(SIG_SETMASK, &old, NULL); /* forked: forward while waiting */
#else
    t->svc_end = t->svc_end_mem;
    pid_t init = clone(pid1, pid1_stack + sizeof pid1_stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, t);
#endif
    if (init < 0) {
        vh_fail(&e, VH_EX_OSERR, "starting PID 1 of the namespace: %s", strerror(errno));
        vh_cgroup_close(&mine);
        return refuse(t, &e);
    }
    for (int fd = 0; fd <= 2; fd++)
        close(fd);
    int init_ws = -1;
    int status = vh_reap_until(init, &init_ws);
    log_ended(t, init_ws);
    vh_running_release(t->running, t->running_dir, t->d.row.service, t->d.row.address);
    t->running = t->running_dir = -1;
    if (t->pids)
        vh_cgroup_leave(&mine); /* K10: the tree is gone */
    t->pids = 0;
    return status;
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

/* What the command line says, parsed by parse(); the strings point into
 * argv. */
struct opts {
    const char *db;          /* --db, or the default */
    const char *pids_cgroup; /* --pids-cgroup, or NULL */
    int proxy_required;      /* --proxy=required: only trusted balancers (issue 15) */
    int first_bytes_ms;      /* --first-bytes-timeout, in ms */
    int tls_sni;             /* --tls-sni: peek the ClientHello's server name (issue 17) */
    int verbose;
    const char *service;
    char *const *argv; /* PROGRAM ARG..., untouched */
};

static void print_help(void **table)
{
    printf("Usage: virtuald");
    arg_print_syntax(stdout, table, "\n");
    printf("Started by a super-server with a TCP connection on fd 0: selects the domain for the\n"
           "dialled local address, enters its jail, drops privileges and execs PROGRAM.\n\n");
    arg_print_glossary(stdout, table, "  %-24s %s\n");
    printf("\nA served connection never returns: PROGRAM replaces virtuald.\n");
    vh_exit_help(stdout, VH_PROG_VIRTUALD);
    printf("See virtuald(8).\n");
}

/* "3", "0.5", "0.001": decimal seconds with at most three decimals,
 * 1 ms to 60 s, into ms. 0 or -1. */
static int parse_seconds_ms(const char *s, int *ms)
{
    long whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
        whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && fdigits < 3; p++, fdigits++)
            frac = frac * 10 + (*p - '0');
        if (fdigits == 0)
            return -1;
    }
    if (*p || digits == 0)
        return -1;
    for (; fdigits < 3; fdigits++)
        frac *= 10;
    long v = whole * 1000 + frac;
    if (v < 1 || v > 60000)
        return -1;
    *ms = (int)v;
    return 0;
}

/* Parse virtuald's own options, which end at SERVICE (args.h): the
 * service's argv is never parsed. Returns 0 with o filled, 1 when --help
 * or --version was answered (never on a socket: under inetd stdout is the
 * client), -1 with e filled. */
static int parse(int argc, char **argv, struct opts *o, vh_err *e)
{
    int split = vh_args_split(argc, argv);
    int nargs = split + 2 <= argc ? split + 2 : argc;
    struct arg_file *db = arg_file0(NULL, "db", "FILE", "database (default " VH_DB_DEFAULT_PATH ")");
    struct arg_lit *verbose = arg_lit0(NULL, "verbose", "log each step of the decision");
    struct arg_str *pidscg = arg_str0(
        NULL, "pids-cgroup", "DIR",
        "root services' per-domain pids cgroups go below DIR (default " VH_CGROUP_DEFAULT_DIR "; none: unbounded)");
    struct arg_str *proxy =
        arg_str0(NULL, "proxy", "MODE",
                 "auto (default): a PROXY header only from trusted balancers (vhostctl proxy-trust); "
                 "required: also refuse every other peer");
    struct arg_str *fbt = arg_str0(NULL, "first-bytes-timeout", "SECONDS",
                                   "how long a trusted balancer may take to send its PROXY header, and a client its "
                                   "TLS ClientHello with --tls-sni (default 3, at most 60)");
    struct arg_lit *sni = arg_lit0(NULL, "tls-sni",
                                   "a TLS port (443, 465, 993, 995, 990) whose client speaks first: choose name rows "
                                   "by the ClientHello's server name, which stays queued for PROGRAM");
    struct arg_lit *help = arg_lit0("h", "help", "print this help and exit");
    struct arg_lit *version = arg_lit0(NULL, "version", "print the version and exit");
    struct arg_str *service = arg_str1(NULL, NULL, "SERVICE", "service name as in inetd.conf's first column");
    struct arg_str *program =
        arg_str1(NULL, NULL, "PROGRAM [ARG...]", "the service, found with execvp inside the jail");
    struct arg_end *end = arg_end(10);
    void *table[] = {db, verbose, pidscg, proxy, fbt, sni, help, version, service, program, end};
    char **pargv = NULL;
    int rc = -1;
    if (arg_nullcheck(table) != 0 || !(pargv = calloc((size_t)nargs + 1, sizeof *pargv))) {
        vh_fail(e, VH_EX_OSERR, "out of memory");
        goto out;
    }
    memcpy(pargv, argv, sizeof(char *) * (size_t)nargs);
    int nerr = arg_parse(nargs, pargv, table);
    if (help->count || version->count) {
        if (!is_socket(1)) {
            if (version->count)
                printf("virtuald %s\n", VH_VERSION);
            else
                print_help(table);
        }
        rc = 1;
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
        vh_fail(e, VH_EX_USAGE,
                "bad command line: %s- usage: virtuald [--db FILE] [--pids-cgroup DIR] [--proxy auto|required] "
                "[--first-bytes-timeout SECONDS] [--tls-sni] [--verbose] SERVICE PROGRAM [ARG...]",
                buf);
        goto out;
    }
    o->proxy_required = 0;
    if (proxy->count && strcmp(proxy->sval[0], "required") == 0) {
        o->proxy_required = 1;
    } else if (proxy->count && strcmp(proxy->sval[0], "auto") != 0) {
        char shown[64];
        vh_fail(e, VH_EX_USAGE, "bad command line: --proxy %s - give --proxy auto or --proxy required",
                vh_printable(proxy->sval[0], shown, sizeof shown));
        goto out;
    }
    o->first_bytes_ms = VH_PROXYIO_TIMEOUT_MS;
    if (fbt->count && parse_seconds_ms(fbt->sval[0], &o->first_bytes_ms) < 0) {
        char shown[64];
        vh_fail(e, VH_EX_USAGE,
                "bad command line: --first-bytes-timeout %s - give seconds from 0.001 to 60, e.g. 3 or 0.5",
                vh_printable(fbt->sval[0], shown, sizeof shown));
        goto out;
    }
    o->db = db->count ? db->filename[0] : VH_DB_DEFAULT_PATH;
    o->pids_cgroup = pidscg->count ? pidscg->sval[0] : NULL;
    o->verbose = verbose->count > 0;
    o->tls_sni = sni->count > 0;
    o->service = service->sval[0];
    o->argv = argv + split + 1;
    rc = 0;
out:
    free(pargv);
    arg_freetable(table, sizeof table / sizeof table[0]);
    return rc;
}

/* A connection that ends quietly: exit 0 and no line (--verbose: one),
 * for a balancer's health checks and clients that left before their
 * first byte (issue 15, fleet.md 1.5). */
#define VH_QUIET 1

static int quiet(const struct target *t, const char *what)
{
    if (t->verbose) {
        char local[96], remote[96];
        fmt_endpoint(&t->real.local, local, sizeof local);
        fmt_endpoint(&t->real.remote, remote, sizeof remote);
        vh_log(LOG_INFO, "detail quiet service=%s local=%s remote=%s: %s", t->service, local, remote, what);
    }
    return VH_QUIET;
}

/* 1 when a v1 header describes the balancer's own connection (PP 2.1's
 * health-check form: getsockname/getpeername of this very socket). */
static int v1_health_form(const vh_proxy_result *h, const vh_conn *real)
{
    return h->version == 1 && strcmp(h->src.text, real->remote.text) == 0 && h->src.port == real->remote.port &&
           strcmp(h->dst.text, real->local.text) == 0 && h->dst.port == real->local.port;
}

/* Issue 15: before the domain, the peer. From a trusted balancer the
 * PROXY header is mandatory and is consumed here, exactly; t->conn
 * becomes the original connection it describes, or stays the real one
 * for a balancer's own (LOCAL) connection, *flags then barring default
 * rows. From any other peer nothing is read: one peek refuses a header
 * already queued. With no trusted source at all, nothing of this runs.
 * 0 go on, VH_QUIET, or -1 with e. */
static int proxy_stage(struct target *t, const struct opts *o, vh_decider *dc, int *flags, vh_err *e)
{
    vh_trust tr;
    char peer[96];
    fmt_endpoint(&t->real.remote, peer, sizeof peer);
    if (vh_decide_trust(dc, t->service, t->real.remote.text, &tr, e) < 0)
        return -1;
    VH_MARK("trust");
    if (!tr.versions) {
        if (o->proxy_required)
            return vh_fail(e, VH_EX_PROTOCOL,
                           "peer %s is no trusted balancer on a --proxy=required line - connect through the balancer, "
                           "or trust it with vhostctl proxy-trust add %s --service %s",
                           peer, t->real.remote.text, t->service);
        if (tr.any && vh_proxyio_untrusted_peek(0)) {
            t->warn_only = 1;
            return vh_fail(e, VH_EX_PROTOCOL,
                           "PROXY header from untrusted peer %s - if it is your balancer, add it with vhostctl "
                           "proxy-trust add %s --service %s",
                           peer, t->real.remote.text, t->service);
        }
        return 0;
    }
    if (t->verbose)
        vh_log(LOG_INFO, "detail trusted balancer=%s row=%s/%s versions=%d", peer, tr.svc, tr.source, tr.versions);
    /* No read transaction while waiting on the network (THREATS I4). */
    vh_decide_wait(dc);
    vh_proxy_result h;
    alarm((unsigned)(o->first_bytes_ms / 1000) + VH_DEADLINE_S);
    vh_proxyio_outcome out = vh_proxyio_read(0, peer, tr.versions, o->first_bytes_ms, &h, e);
    alarm(VH_DEADLINE_S);
    VH_MARK("proxy_header");
    if (out == VH_PROXYIO_GONE)
        return quiet(t, "closed before its first byte (a balancer's check, or a client that left)");
    if (out == VH_PROXYIO_REFUSED)
        return -1;
    if (h.command == VH_PROXY_CMD_LOCAL || v1_health_form(&h, &t->real)) {
        /* the balancer's own connection: the real local address chooses,
         * never a default row (fleet.md 1.5) */
        *flags |= VH_SELECT_NO_DEFAULT;
        t->direct = 1;
        if (t->verbose)
            vh_log(LOG_INFO, "detail direct balancer=%s (PROXY v%d %s)", peer, h.version,
                   h.command == VH_PROXY_CMD_LOCAL ? "LOCAL" : "health-check form");
        return 0;
    }
    t->conn.local = h.dst;
    t->conn.remote = h.src;
    t->via = h.version;
    snprintf(t->authority, sizeof t->authority, "%s", h.authority);
    t->has_authority = h.has_authority;
    t->tls_ended = h.tls_ended;
    t->unique_id_len = h.unique_id_len;
    memcpy(t->unique_id, h.unique_id, h.unique_id_len);
    return 0;
}

/* Issue 17: the host name that chooses among name rows (fleet.md 2.1):
 * the PROXY v2 AUTHORITY a trusted balancer sent, and with --tls-sni
 * the ClientHello's server name, peeked and left queued for the
 * service; both present, they must agree. Nothing of this runs without
 * either. 0 go on (t->name may stay empty: the address chooses),
 * VH_QUIET, or -1 with e. */
static int name_stage(struct target *t, const struct opts *o, vh_decider *dc, vh_err *e)
{
    if (t->direct)
        return 0; /* the balancer's own connection: by its address only */
    if (t->authority[0]) {
        memcpy(t->name, t->authority, sizeof t->name);
        t->name_from = "authority";
    }
    if (!o->tls_sni)
        return 0;
    if (t->tls_ended) {
        /* the balancer ended TLS: a ClientHello now would be the
         * client's own plaintext, a name the balancer never checked */
        if (t->verbose)
            vh_log(LOG_INFO, "detail tls-sni: the balancer ended TLS (PROXY v2 SSL TLV), no ClientHello is peeked");
        return 0;
    }
    char peer[96];
    fmt_endpoint(&t->conn.remote, peer, sizeof peer);
    vh_decide_wait(dc); /* no read transaction while waiting (THREATS I4) */
    static vh_tls_result r;
    alarm((unsigned)(o->first_bytes_ms / 1000) + VH_DEADLINE_S);
    vh_tlsio_outcome out = vh_tlsio_peek(0, peer, o->first_bytes_ms, &r, e);
    alarm(VH_DEADLINE_S);
    VH_MARK("tls_hello");
    switch (out) {
    case VH_TLSIO_REFUSED:
        t->warn_only = 1; /* a client's bytes, not the operator's setup */
        return -1;
    case VH_TLSIO_GONE:
        /* fleet.md 2.2: one line for a client, quiet for a balancer */
        if (!t->via) {
            char local[96];
            fmt_endpoint(&t->conn.local, local, sizeof local);
            vh_log(LOG_INFO, "closed service=%s local=%s remote=%s reason=eof-before-data", t->service, local, peer);
            return VH_QUIET;
        }
        return quiet(t, "closed before its ClientHello");
    case VH_TLSIO_NOT_TLS:
        if (t->verbose)
            vh_log(LOG_INFO, "detail tls-sni remote=%s: first byte is no TLS handshake, the address chooses", peer);
        return 0;
    case VH_TLSIO_HELLO: break;
    }
    t->ech = r.ech;
    if (t->verbose)
        vh_log(LOG_INFO, "detail tls-sni remote=%s records=%u version=0x%04x sni=%s ech=%d", peer, r.records,
               r.client_version, r.name[0] ? r.name : (r.has_sni ? "(ip-literal)" : "(none)"), r.ech);
    if (!r.name[0])
        return 0;
    if (t->has_authority && !t->authority[0]) {
        /* the balancer named no host (an IP literal): the hello is
         * not the balancer's word, it may be the client's own bytes
         * inside the balancer's TLS; both present, they must agree */
        t->warn_only = 1;
        return vh_fail(e, VH_EX_PROTOCOL,
                       "SNI %s and PROXY authority (an IP literal, no host name) disagree - check the balancer's "
                       "proxy-v2-options authority",
                       r.name);
    }
    if (t->authority[0]) {
        if (strcmp(t->authority, r.name) != 0) {
            t->warn_only = 1;
            return vh_fail(e, VH_EX_PROTOCOL,
                           "SNI %s and PROXY authority %s disagree - check the balancer's "
                           "proxy-v2-options authority",
                           r.name, t->authority);
        }
        t->name_from = "sni+authority";
        return 0;
    }
    memcpy(t->name, r.name, sizeof t->name);
    t->name_from = "sni";
    return 0;
}

static int env_proxy(struct target *t, vh_err *e)
{
    if (!t->via)
        return 0;
    if (vh_env_add(&t->env, e, "VIRTUALD_PROXY=v%d", t->via) < 0 ||
        vh_env_add(&t->env, e, "VIRTUALD_PEERIP=%s", t->real.remote.text) < 0 ||
        vh_env_add(&t->env, e, "VIRTUALD_PEERPORT=%u", t->real.remote.port) < 0)
        return -1;
    if (t->unique_id_len) {
        char hex[2 * VH_PROXY_UNIQUE_ID_MAX + 1];
        for (size_t i = 0; i < t->unique_id_len; i++)
            snprintf(hex + 2 * i, 3, "%02x", t->unique_id[i]);
        if (vh_env_add(&t->env, e, "VIRTUALD_PROXY_ID=%s", hex) < 0)
            return -1;
    }
    return 0;
}

/* Issue 16: one instance slot and one of the source's, held by this
 * process (the service's waiting parent) on the domain's running file
 * until the tree is gone. The source is the original client when
 * proxied. */
static int take_slots(struct target *t, vh_err *e)
{
    const vh_row *r = &t->d.row;
    vh_limit l = {r->max_instances, r->max_per_source, r->source_prefix4, r->source_prefix6};
    unsigned char key[VH_LIMITS_KEY_LEN] = {0};
    char what[VH_SERVICE_MAX + VH_ADDR_TEXT + 2];
    snprintf(what, sizeof what, "%s/%s", r->service, r->address);
    if (l.max_per_source && vh_limits_key(VH_LIMITS_KEY_PATH, key, e) < 0)
        return -1;
    if (vh_limits_take(t->running, &l, key, &t->conn.remote, what, e) < 0) {
        t->warn_only = e->code == VH_EX_TEMPFAIL; /* a limit reached is the clients' doing */
        return -1;
    }
    VH_MARK("slots");
    return 0;
}

/* The deciding rule as vhostctl lookup names it (fleet.md 3.3: the
 * prefix rules with their length, "prefix/24"), for the log. */
static const char *rule_text(const vh_decision *d, char *buf, size_t n)
{
    if (d->rule == VH_RULE_PREFIX || d->rule == VH_RULE_PREFIX_ANY)
        snprintf(buf, n, "%s/%u", vh_select_rule_name(d->rule), d->prefix_len);
    else
        snprintf(buf, n, "%s", vh_select_rule_name(d->rule));
    return buf;
}

/* Phase 1, decide: the dialled address, the deciding row, the service's
 * environment and, for a root service, its pids cgroup. Reads the
 * database and closes it again; enters nothing. 0, VH_QUIET, or -1 with
 * e. */
static int decide(struct target *t, const struct opts *o, vh_err *e)
{
    if (vh_valid_service(t->service, 0, e) < 0) {
        e->code = VH_EX_USAGE;
        return -1;
    }
    if (geteuid() != 0)
        return vh_fail(e, VH_EX_NOPERM, "virtuald must be started as root (it is uid %u) to enter jails",
                       (unsigned)geteuid());
    int gone = vh_addr_from_socket(0, &t->real, e);
    if (gone == -1)
        return -1;
    t->conn = t->real;
    VH_MARK("address");
    if (t->verbose)
        vh_log(LOG_INFO, "detail service=%s local=%s database=%s", t->service, t->real.local.text, o->db);
    vh_decider dc;
    if (vh_decide_begin(&dc, o->db, e) < 0)
        return -1;
    int flags = 0, rc;
    if (gone == -2) {
        /* reset before we looked: where balancers are trusted, that is
         * their L4 check, and quiet; elsewhere refused as before */
        vh_trust tr;
        vh_err keep = *e;
        rc = vh_decide_trust(&dc, t->service, "", &tr, e);
        vh_decide_end(&dc, e);
        if (rc == 0 && tr.any)
            return quiet(t, "connection reset before virtuald looked (a balancer's check)");
        *e = keep;
        return -1;
    }
    rc = proxy_stage(t, o, &dc, &flags, e);
    if (rc == 0)
        rc = name_stage(t, o, &dc, e);
    if (rc == 0) {
        rc = vh_decide_select(&dc, t->service, t->conn.local.text, t->name, flags, &t->d, e);
        /* the balancer's own connection to an address no row names:
         * its check, answered by closing */
        if (rc < 0 && (flags & VH_SELECT_NO_DEFAULT) && e->code == VH_EX_NOHOST)
            rc = quiet(t, "balancer's own connection, no row for its local address");
    }
    vh_err ce;
    if (vh_decide_end(&dc, &ce) < 0 && rc == 0) {
        *e = ce;
        rc = -1;
    }
    if (rc != 0)
        return rc;
    char rule[40];
    if (t->verbose)
        vh_log(LOG_INFO, "detail decided rule=%s row=%s/%s source=%s%s%s%s", rule_text(&t->d, rule, sizeof rule),
               t->d.row.service, t->d.row.address, t->d.from_index ? "index" : "database",
               t->d.from_index ? "" : " (index: ", t->d.from_index ? "" : (t->d.index_why ? t->d.index_why : "?"),
               t->d.from_index ? "" : ")");
    if (vh_env_build(environ, &t->conn, t->service, t->d.row.address, &t->env, e) < 0 || env_proxy(t, e) < 0 ||
        (t->name[0] && vh_env_add(&t->env, e, "VIRTUALD_SERVER_NAME=%s", t->name) < 0))
        return -1;
    VH_MARK("env");
    /* The limit is the row's max_procs (vhostctl set --max-procs;
     * default 1,024), validated by vh_decide. */
    if (!t->d.row.has_user && pids_open(t, o->pids_cgroup, t->d.row.max_procs, e) < 0)
        return -1;
    VH_MARK("pids_cgroup");
    /* Issue 13 point 10: held open until the tree is gone, so that
     * vhostctl disable --kill finds it (running.h). Without it the
     * connection is still served: the operator is told once per
     * connection that --kill cannot reach it. */
    vh_err re;
    const vh_row *r = &t->d.row;
    int limited = r->max_instances || r->max_per_source;
    t->running = vh_running_open(t->d.row.service, t->d.row.address, limited, &t->running_dir, &re);
    if (t->running < 0 && limited) {
        /* issue 16: the slots live on that file - fail closed */
        *e = re;
        return -1;
    }
    if (limited && take_slots(t, e) < 0)
        return -1;
    if (t->running < 0) {
        char why[3 * sizeof re.msg];
        vh_log(LOG_WARNING, "untracked service=%s domain=%s/%s reason=%s - vhostctl disable --kill cannot end it",
               t->service, t->d.row.service, t->d.row.address, vh_log_value(re.msg, why, sizeof why));
    }
    VH_MARK("running");
    return 0;
}

static void log_served(struct target *t)
{
    clock_gettime(CLOCK_MONOTONIC, &t->started); /* vDSO: no system call */
    char local[96], remote[96], root[PATH_MAX * 2], user[VH_NAME_MAX * 2], prog[PATH_MAX * 2];
    fmt_endpoint(&t->conn.local, local, sizeof local);
    fmt_endpoint(&t->conn.remote, remote, sizeof remote);
    vh_log_value(t->d.row.root, root, sizeof root);
    vh_log_value(t->d.row.has_user ? t->d.row.user : "root", user, sizeof user);
    vh_log_value(t->argv[0], prog, sizeof prog);
    char via[VH_VIA_TEXT], rule[40], base[PATH_MAX * 2 + 8] = "";
    if (t->d.row.base[0]) { /* sql/008: the shared layer it runs from */
        memcpy(base, " base=", 6);
        vh_log_value(t->d.row.base, base + 6, sizeof base - 6);
    }
    /* fleet.md 1.5: a balancer's own connection (its L7 check) is logged
     * only with --verbose, at debug */
    if (t->direct && !t->verbose)
        return;
    vh_log(t->direct ? LOG_DEBUG : LOG_INFO,
           "served service=%s local=%s remote=%s%s domain=%s/%s rule=%s root=%s%s user=%s uid=%u gid=%u program=%s%s",
           t->service, local, remote, fmt_via(t, via, sizeof via), t->d.row.service, t->d.row.address,
           rule_text(&t->d, rule, sizeof rule), root, base, user, t->d.row.has_user ? (unsigned)t->d.row.uid : 0u,
           t->d.row.has_user ? (unsigned)t->d.row.gid : 0u, prog,
           /* sql/003: the operator chose a root that is no jail (K7 not checked) */
           t->d.row.unjailed == 1 ? " unjailed=1" : "");
}

/* vh_env_exists_fn inside the jail ("/" is the jail). */
static int exists_in_jail(void *ctx, const char *path, int want_dir)
{
    (void)ctx;
    struct stat st;
    return stat(path, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

/* Phase 2, apply: only what phase 1 produced. Descriptors, terminal,
 * keyring, the jail and its namespaces; then the "served" line, and the
 * deadline and signals handed back for the service. 0, or -1 with e. */
static int apply(struct target *t, vh_err *e)
{
    /* Only fds 0-2 reach the service; the syslog socket stays usable
     * until exec because it is only marked close-on-exec (A3, D1). Before
     * the jail: its fallback reads /proc/self/fd, which must be the
     * host's; everything virtuald opens from here on is O_CLOEXEC. */
    if (vh_fd_cloexec_from(3, e) < 0)
        return -1;
    VH_MARK("cloexec");
    int ttys = 0;
    if (vh_fd_no_tty(&ttys, e) < 0)
        return -1;
    if (ttys)
        vh_log(LOG_WARNING, "terminal on fd%s%s%s replaced with /dev/null: a terminal never reaches a service (K3)",
               ttys & 1 ? " 0" : "", ttys & 2 ? " 1" : "", ttys & 4 ? " 2" : "");
    VH_MARK("tty_check");
    /* K4: a fresh session keyring, joined while still root (the key is
     * charged to root's quota, not to a run-as uid shared by many). The
     * processes started below inherit it. */
    if (vh_sandbox_keyring(e) < 0)
        return -1;
    VH_MARK("keyring");
    if (enter(t, e) < 0)
        return -1;
    /* Issue 13 point 4: a LANG or LC_* naming a locale the jail lacks
     * reaches the service as "C" (glibc would warn on stderr, which is
     * the socket). Only now: "/" is the jail, so its symlinks resolve
     * inside it, and only stat is used, no file of the tenant's is
     * opened (C3). Nothing is asked when every value is C or POSIX. */
    vh_env_locales(&t->env, exists_in_jail, NULL);
    log_served(t);
    VH_MARK("log_line");
    /* The deadline is virtuald's, not the service's: a pending alarm
     * would survive exec. */
    alarm(0);
    reset_signals();
    VH_MARK("signals");
    return 0;
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

    struct opts o = {0};
    int rc = parse(argc, argv, &o, &e);
    if (rc != 0)
        return rc > 0 ? VH_EX_OK : refuse(NULL, &e);
    VH_MARK("args");
    struct target *t = calloc(1, sizeof *t);
    if (!t) {
        vh_fail(&e, VH_EX_OSERR, "out of memory");
        return refuse(NULL, &e);
    }
    t->service = o.service;
    t->running = t->running_dir = t->rootfd = t->usernsfd = -1;
    t->argv = o.argv;
    t->verbose = o.verbose;
    int dr = decide(t, &o, &e);
    if (dr == VH_QUIET)
        return VH_EX_OK;
    if (dr < 0 || apply(t, &e) < 0) {
        if (t->pids)
            vh_cgroup_leave(&t->cg); /* K10: refused before the tree started */
        vh_running_release(t->running, t->running_dir, t->d.row.service, t->d.row.address);
        return refuse(t, &e);
    }
    /* exec: the service's process tree, with virtuald waiting as its
     * parent (run_tree). */
    return run_tree(t);
}
