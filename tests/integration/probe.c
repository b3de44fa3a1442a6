/* probe - a hostile service for the integration tests.
 *
 * Built static so it needs nothing in a jail. Run by virtuald (or, as a
 * positive control, straight by chroot(8)), it reports from inside what
 * it is and what it can do, one "key=value" line each, on stdout (the
 * client's socket). It attempts the attacks of THREATS.md A, B, C, D:
 *
 *   probe info                     ids, groups, caps, no_new_privs, fds, cwd, env, pid
 *   probe escape MARKER            A1: mkdir/chroot/cd ../ x N/chroot ., then stat MARKER
 *   probe regain                   B3: setuid(0), seteuid(0), setgid(0), setgroups
 *   probe mknod                    A5: mknod a block device
 *   probe mount                    mount a tmpfs
 *   probe kill PID                 A13: signal 0 to a host process
 *   probe ptrace PID               A13: attach to a host process (and detach)
 *   probe read PATH                read a file (another domain's)
 *   probe fds                      list open descriptors 0-1023 and what they are
 *   probe readall                  read fd 0 until "END\\n" and report bytes
 *   probe exit N                   exit with status N
 *   probe forkbomb SECONDS MAX     fork until refused or MAX, hold the children
 *   probe stdio                    D2, D4: what fds 0, 1, 2 are, written to fd 0
 *                                  (the connection) whatever fds 1 and 2 are
 *   probe killpg [UID]             K1: [setresuid(UID), then] SIGKILL to its own
 *                                  process group (kill(0, ...))
 *   probe killall [UID]            K1, K2: [setresuid(UID), then] SIGKILL to every
 *                                  process it may signal (kill(-1, ...))
 *   probe tty                      K3: which of fds 0-2 are terminals, session,
 *                                  /dev/tty, TIOCSTI through each
 *   probe sleep SECONDS            a running service, as a victim
 *   probe bind ADDR PORT           K5: bind a TCP socket (IPv4)
 *   probe abstract NAME            K5: connect to the abstract unix socket @NAME
 *   probe landlock                 the kernel's Landlock ABI version (0: none)
 *   probe keyring SES USER PLANT   K4: read keys SES (the super-server's session
 *                                  secret) and USER (host root's user keyring) by
 *                                  serial, search the session keyring, plant key
 *                                  PLANT in the user keyring, get the persistent
 *                                  keyring
 *   probe unshare                  K6: unshare(CLONE_NEWUSER|CLONE_NEWNS) and mount a
 *                                  tmpfs; clone with CLONE_NEWUSER; clone3
 *   probe int80                    K4, K6: the same through foreign ABIs (i386
 *                                  int $0x80 where it exists, x32), x86_64 only
 *   probe sockstate [N]            L3, L6 (issue 15): fd 0's SO_RCVLOWAT, file status
 *                                  flags and SO_RCVBUF, the TCP* and VIRTUALD_PROXY*
 *                                  variables (and VIRTUALD_SERVER_NAME, issue 17),
 *                                  then fd 0 read to EOF (or N bytes):
 *                                  length, FNV-1a 64 and hex (first 4 KiB)
 *   probe lowat N [N2]             P15's control: set SO_RCVLOWAT of fd 0 to N itself,
 *                                  then as sockstate [N2]
 *   probe tlshello                 S1 (issue 17): read fd 0 record by record until the
 *                                  first TLS handshake message (the ClientHello) is
 *                                  complete, never a byte further; VIRTUALD_SERVER_NAME,
 *                                  records, length and hex of every byte read
 *   probe hold SECONDS DIR         issue 16, table L row 4: hold the connection SECONDS
 *                                  (fractions allowed), then write "ENTRY EXIT\n"
 *                                  (CLOCK_MONOTONIC, ns) into a new file DIR/hold.*
 *   probe base DIR...              issue 14 point 5: for each DIR (a directory a base
 *                                  is bound on), its mount flags (statvfs: rdonly,
 *                                  nosuid, nodev), a file created in it, a remount
 *                                  read-write (mount MS_REMOUNT|MS_BIND), a detach
 *                                  (umount2), mount_setattr clearing read-only, and
 *                                  open_tree of it; each "KEY.DIR=ok" or the errno
 *   probe daemon SECONDS DIR       table L row 6: fork a child that writes DIR/daemon.*
 *                                  ("alive"), tells the parent and sleeps SECONDS, then
 *                                  appends "survived"; the parent exits once told
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <termios.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

extern char **environ;

static void info(void)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("uid=%u euid=%u suid=%u\n", r, e, s);
    printf("gid=%u egid=%u sgid=%u\n", gr, ge, gs);
    gid_t g[256];
    int n = getgroups(256, g);
    printf("groups=");
    for (int i = 0; i < n; i++)
        printf(i ? ",%u" : "%u", g[i]);
    printf("\n");
    printf("no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    syscall(SYS_capget, &hdr, d);
    printf("cap_eff=%08x%08x\n", d[1].effective, d[0].effective);
    printf("cap_inh=%08x%08x\n", d[1].inheritable, d[0].inheritable);
    unsigned long long bnd = 0;
    for (int c = 0; c < 64; c++)
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            bnd |= 1ULL << c;
    printf("cap_bnd=%016llx\n", bnd);
    printf("cap_sys_admin_bnd=%d\n", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
    printf("cap_sys_chroot_bnd=%d\n", prctl(PR_CAPBSET_READ, CAP_SYS_CHROOT, 0, 0, 0));
    printf("cap_mknod_bnd=%d\n", prctl(PR_CAPBSET_READ, CAP_MKNOD, 0, 0, 0));
    char cwd[4096];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    printf("pid=%d\n", (int)getpid());
    printf("fds=");
    int first = 1;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0) {
            printf(first ? "%d" : ",%d", fd);
            first = 0;
        }
    printf("\n");
    for (char **p = environ; *p; p++)
        printf("env %s\n", *p);
}

static void escape(const char *marker)
{
    struct stat st, before, after;
    /* "/" as the jail shows it: if the trick works, "/" becomes another
     * directory (the host's real root, even above an outer chroot). */
    stat("/", &before);
    /* the classic: chroot into a subdirectory, climb out of it with
     * "..", chroot to where we ended */
    mkdir("probe-escape", 0700);
    int ok = chroot("probe-escape");
    printf("chroot_sub=%s\n", ok == 0 ? "ok" : strerror(errno));
    for (int i = 0; i < 64; i++)
        if (chdir("..") < 0)
            break;
    ok = chroot(".");
    printf("chroot_dot=%s\n", ok == 0 ? "ok" : strerror(errno));
    stat("/", &after);
    int moved = before.st_dev != after.st_dev || before.st_ino != after.st_ino;
    printf("root_moved=%s\n", moved ? "yes" : "no");
    printf("marker=%s\n", stat(marker, &st) == 0 ? "visible" : "hidden");
    printf("escape=%s\n", moved || stat(marker, &st) == 0 ? "yes" : "no");
}

static void regain(void)
{
    printf("setuid0=%s\n", setuid(0) == 0 ? "ok" : strerror(errno));
    printf("seteuid0=%s\n", seteuid(0) == 0 ? "ok" : strerror(errno));
    printf("setgid0=%s\n", setgid(0) == 0 ? "ok" : strerror(errno));
    gid_t zero = 0;
    printf("setgroups0=%s\n", setgroups(1, &zero) == 0 ? "ok" : strerror(errno));
    printf("euid_after=%u\n", (unsigned)geteuid());
}

/* "socket", "socket=0" (the same socket as fd 0), "chr:1:3" (/dev/null),
 * "file", "pipe", "closed". */
static void describe(int fd, const struct stat *st0, char *out, size_t n)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        snprintf(out, n, "closed");
    else if (S_ISSOCK(st.st_mode))
        snprintf(out, n, fd > 0 && st.st_dev == st0->st_dev && st.st_ino == st0->st_ino ? "socket=0" : "socket");
    else if (S_ISCHR(st.st_mode))
        snprintf(out, n, "chr:%u:%u", major(st.st_rdev), minor(st.st_rdev));
    else if (S_ISREG(st.st_mode))
        snprintf(out, n, "file");
    else if (S_ISFIFO(st.st_mode))
        snprintf(out, n, "pipe");
    else
        snprintf(out, n, "other");
}

/* K3: a terminal the service can reach types into the admin's shell. */
static void tty_probe(void)
{
    for (int fd = 0; fd < 3; fd++)
        printf("tty%d=%s\n", fd, isatty(fd) ? "yes" : "no");
    printf("session_leader=%s\n", getsid(0) == getpid() ? "yes" : "no");
    int t = open("/dev/tty", O_RDWR | O_NOCTTY);
    printf("devtty=%s\n", t >= 0 ? "ok" : strerror(errno));
    if (t >= 0) {
        char c = ' ';
        printf("devtty_sti=%s\n", ioctl(t, TIOCSTI, &c) == 0 ? "ok" : strerror(errno));
        close(t);
    }
    if (isatty(2)) {
        char c = ' ';
        printf("fd2_sti=%s\n", ioctl(2, TIOCSTI, &c) == 0 ? "ok" : strerror(errno));
    }
}

static void killall(const char *uid)
{
    if (uid) {
        uid_t u = (uid_t)atoi(uid);
        printf("setresuid=%s\n", setresuid(u, u, u) == 0 ? "ok" : strerror(errno));
    }
    fflush(stdout);
    int ok = kill(-1, SIGKILL);
    printf("killall=%s\n", ok == 0 ? "ok" : strerror(errno));
}

static void bind_probe(const char *addr, const char *port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)atoi(port));
    inet_pton(AF_INET, addr, &sin.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int ok = s >= 0 ? bind(s, (struct sockaddr *)&sin, sizeof sin) : -1;
    printf("bind=%s\n", ok == 0 ? "ok" : strerror(errno));
    if (s >= 0)
        close(s);
}

static void abstract_probe(const char *name)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    size_t n = strlen(name);
    if (n > sizeof sun.sun_path - 1)
        n = sizeof sun.sun_path - 1;
    memcpy(sun.sun_path + 1, name, n);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int ok =
        s >= 0 ? connect(s, (struct sockaddr *)&sun, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) : -1;
    printf("abstract=%s\n", ok == 0 ? "ok" : strerror(errno));
    if (s >= 0)
        close(s);
}

static void stdio(void)
{
    struct stat st0;
    char d[3][32];
    memset(&st0, 0, sizeof st0);
    fstat(0, &st0);
    for (int fd = 0; fd < 3; fd++)
        describe(fd, &st0, d[fd], sizeof d[fd]);
    dprintf(0, "fd0=%s fd1=%s fd2=%s\n", d[0], d[1], d[2]);
}

static const char *err_or(long rc, const char *ok)
{
    return rc < 0 ? strerror(errno) : ok;
}

/* K4: what a service reaches of the host's keyrings. */
static void keyring(long ses, long user, const char *plant)
{
    long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    if (id < 0)
        printf("session=%s\n", strerror(errno));
    else
        printf("session=%ld\n", id);
    const long keys[2] = {ses, user};
    const char *names[2] = {"ses_read", "user_read"};
    for (int i = 0; i < 2; i++) {
        char buf[256];
        long n = syscall(SYS_keyctl, KEYCTL_READ, keys[i], buf, sizeof buf - 1);
        if (n >= 0 && n < (long)sizeof buf) {
            buf[n] = 0;
            printf("%s=secret:%s\n", names[i], buf);
        } else {
            printf("%s=%s\n", names[i], n < 0 ? strerror(errno) : "too long");
        }
    }
    long found = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", "vhtest-secret", 0);
    printf("ses_search=%s\n", err_or(found, "found"));
    long planted = syscall(SYS_add_key, "user", plant, "planted", 7, KEY_SPEC_USER_KEYRING);
    printf("plant=%s\n", err_or(planted, "ok"));
    long pers = syscall(SYS_keyctl, KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_THREAD_KEYRING);
    printf("persistent=%s\n", err_or(pers, "ok"));
}

/* K6: a new user namespace (and with it every capability inside). */
static void namespaces(void)
{
    mkdir("probe-ns", 0700);
    pid_t pid = fork();
    if (pid == 0) {
        long rc = unshare(CLONE_NEWUSER | CLONE_NEWNS);
        printf("unshare=%s\n", err_or(rc, "ok"));
        if (rc == 0) {
            rc = mount("none", "probe-ns", "tmpfs", 0, NULL);
            printf("ns_mount=%s\n", err_or(rc, "ok"));
        }
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (c == 0)
        _exit(0);
    if (c > 0)
        waitpid((pid_t)c, NULL, 0);
    printf("clone_newuser=%s\n", err_or(c, "ok"));
    rmdir("probe-ns");
}

#ifdef __x86_64__
/* i386 ABI from this 64-bit process, in a child: some kernels fault. */
static void int80_call(const char *name, long nr, long a1)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a1) : "memory", "cc", "r8", "r9", "r10", "r11");
        printf("%s=%s\n", name, ret < 0 && ret > -4096 ? strerror((int)-ret) : "ok");
        fflush(stdout);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("%s=faults\n", name);
}

static void foreign_abi(void)
{
    int80_call("int80_getpid", 20, 0);
    int80_call("int80_unshare", 310, CLONE_NEWUSER);
    int80_call("int80_keyctl", 288, KEYCTL_GET_KEYRING_ID);
    long rc = syscall(0x40000000L | SYS_getpid);
    printf("x32_getpid=%s\n", err_or(rc, "ok"));
    rc = syscall(0x40000000L | SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    printf("x32_keyctl=%s\n", err_or(rc, "ok"));
}
#endif

/* L3, L6: what the service got - the socket's state as handed over and
 * exactly the bytes it can read (issue 15, fleet.md P1, P4, P15). */
static void sockstate(long want)
{
    int v = -1;
    socklen_t vl = sizeof v;
    if (getsockopt(0, SOL_SOCKET, SO_RCVLOWAT, &v, &vl) == 0)
        printf("rcvlowat=%d\n", v);
    else
        printf("rcvlowat=error:%s\n", strerror(errno));
    printf("fl=0x%x\n", (unsigned)fcntl(0, F_GETFL));
    vl = sizeof v;
    if (getsockopt(0, SOL_SOCKET, SO_RCVBUF, &v, &vl) == 0)
        printf("rcvbuf=%d\n", v);
    else
        printf("rcvbuf=error:%s\n", strerror(errno));
    static const char *vars[] = {
        "PROTO",
        "TCPLOCALIP",
        "TCPLOCALPORT",
        "TCPREMOTEIP",
        "TCPREMOTEPORT",
        "VIRTUALD_PROXY",
        "VIRTUALD_PEERIP",
        "VIRTUALD_PEERPORT",
        "VIRTUALD_PROXY_ID",
        "VIRTUALD_ADDRESS",
        "VIRTUALD_SERVER_NAME",
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *x = getenv(vars[i]);
        printf("%s=%s\n", vars[i], x ? x : "(unset)");
    }
    static unsigned char buf[1 << 16];
    size_t total = 0;
    unsigned long long h = 1469598103934665603ULL;
    char hex[2 * 4096 + 1];
    hex[0] = 0;
    for (;;) {
        size_t ask = sizeof buf;
        if (want >= 0 && (long)(want - (long)total) < (long)ask)
            ask = (size_t)(want - (long)total);
        if (ask == 0)
            break;
        ssize_t n = read(0, buf, ask);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            h = (h ^ buf[i]) * 1099511628211ULL;
            if (total + (size_t)i < 4096)
                snprintf(hex + 2 * (total + (size_t)i), 3, "%02x", buf[i]);
        }
        total += (size_t)n;
    }
    printf("read=%zu fnv=%016llx\n", total, h);
    printf("hex=%s\n", hex);
}

/* read exactly n bytes of fd 0: 1, or 0 at EOF or error */
static int read_full(unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(0, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/* S1: what the TLS server behind virtuald --tls-sni reads of the
 * handshake: the ClientHello's records as they came (5-byte header and
 * fragment each), up to the end of the record that completes the first
 * handshake message - what a TLS server itself reads before it answers. */
static void tlshello(void)
{
    static unsigned char buf[40 * (5 + 16384)];
    unsigned char hs[4];
    size_t total = 0, hs_have = 0, hs_need = 4;
    unsigned records = 0;
    const char *how = "complete";
    const char *x = getenv("VIRTUALD_SERVER_NAME");
    printf("VIRTUALD_SERVER_NAME=%s\n", x ? x : "(unset)");
    while (hs_have < hs_need) {
        if (total + 5 > sizeof buf || !read_full(buf + total, 5)) {
            how = "cut";
            break;
        }
        size_t len = (size_t)buf[total + 3] << 8 | buf[total + 4];
        if (buf[total] != 0x16 || total + 5 + len > sizeof buf || !read_full(buf + total + 5, len)) {
            how = buf[total] != 0x16 ? "not-handshake" : "cut";
            total += 5;
            break;
        }
        for (size_t i = 0; i < len; i++, hs_have++) {
            if (hs_have < 4) {
                hs[hs_have] = buf[total + 5 + i];
                if (hs_have == 3)
                    hs_need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
            }
        }
        total += 5 + len;
        records++;
    }
    printf("hello=%s records=%u read=%zu\n", how, records, total);
    printf("hex=");
    for (size_t i = 0; i < total; i++)
        printf("%02x", buf[i]);
    printf("\n");
}

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A new file DIR/PREFIX.NS.N (O_EXCL: services in other PID namespaces
 * share PIDs, so the name is the time and a counter). */
static int new_file(const char *dir, const char *prefix, long long ns)
{
    char path[4096];
    for (int i = 0; i < 1000; i++) {
        snprintf(path, sizeof path, "%s/%s.%lld.%d", dir, prefix, ns, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

static void sleep_secs(double secs)
{
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Table L row 4: the interval the service ran, for the overlap count. */
static void hold(double secs, const char *dir)
{
    long long entry = mono_ns();
    printf("holding=%d\n", (int)getpid());
    sleep_secs(secs);
    long long exit_ns = mono_ns();
    int fd = new_file(dir, "hold", entry);
    if (fd < 0) {
        printf("hold_file=%s\n", strerror(errno));
        return;
    }
    dprintf(fd, "%lld %lld\n", entry, exit_ns);
    close(fd);
}

/* Table L row 6: a service that daemonises (its first process exits). */
static void daemonise(double secs, const char *dir)
{
    int p[2];
    if (pipe(p) < 0) {
        printf("pipe=%s\n", strerror(errno));
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        setsid();
        int fd = new_file(dir, "daemon", mono_ns());
        if (fd >= 0)
            dprintf(fd, "alive\n");
        char c = 'x';
        if (write(p[1], &c, 1) != 1)
            _exit(1);
        close(p[1]);
        sleep_secs(secs);
        if (fd >= 0)
            dprintf(fd, "survived\n");
        _exit(0);
    }
    close(p[1]);
    char c;
    ssize_t n = pid > 0 ? read(p[0], &c, 1) : -1;
    printf("daemon=%s\n", n == 1 ? "started" : "failed");
}

/* issue 14 point 5: what the service can do to a directory its base is
 * bound on (see the usage above). */
struct probe_mount_attr {
    unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

static const char *res(long rc)
{
    return rc == 0 ? "ok" : strerror(errno);
}

static void base_dir(const char *d)
{
    struct statvfs sv;
    if (statvfs(d, &sv) == 0)
        printf("flags.%s=rdonly:%d,nosuid:%d,nodev:%d\n", d, !!(sv.f_flag & ST_RDONLY), !!(sv.f_flag & ST_NOSUID),
               !!(sv.f_flag & ST_NODEV));
    else
        printf("flags.%s=%s\n", d, strerror(errno));
    char f[4096];
    snprintf(f, sizeof f, "%s/probe-written", d);
    int fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0644);
    printf("create.%s=%s\n", d, fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) {
        close(fd);
        unlink(f);
    }
    printf("remount.%s=%s\n", d, res(mount(NULL, d, NULL, MS_REMOUNT | MS_BIND, NULL)));
    printf("umount.%s=%s\n", d, res(umount2(d, MNT_DETACH)));
#ifdef SYS_mount_setattr
    struct probe_mount_attr a = {0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, 0};
    printf("setattr.%s=%s\n", d, res(syscall(SYS_mount_setattr, AT_FDCWD, d, 0, &a, sizeof a)));
#endif
#ifdef SYS_open_tree
    long t = syscall(SYS_open_tree, AT_FDCWD, d, 1 /* OPEN_TREE_CLONE */);
    printf("open_tree.%s=%s\n", d, t >= 0 ? "ok" : strerror(errno));
    if (t >= 0)
        close((int)t);
#endif
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "info";
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("probe=%s\n", what);
    if (strcmp(what, "info") == 0) {
        info();
    } else if (strcmp(what, "escape") == 0 && argc > 2) {
        escape(argv[2]);
    } else if (strcmp(what, "regain") == 0) {
        regain();
    } else if (strcmp(what, "mknod") == 0) {
        int ok = mknod("probe-disk", S_IFBLK | 0600, makedev(7, 0));
        printf("mknod=%s\n", ok == 0 ? "ok" : strerror(errno));
        unlink("probe-disk");
    } else if (strcmp(what, "base") == 0) {
        for (int i = 2; i < argc; i++)
            base_dir(argv[i]);
    } else if (strcmp(what, "mount") == 0) {
        mkdir("probe-mnt", 0700);
        int ok = mount("none", "probe-mnt", "tmpfs", 0, NULL);
        printf("mount=%s\n", ok == 0 ? "ok" : strerror(errno));
        if (ok == 0)
            umount("probe-mnt");
        rmdir("probe-mnt");
    } else if (strcmp(what, "kill") == 0 && argc > 2) {
        int ok = kill(atoi(argv[2]), 0);
        printf("kill=%s\n", ok == 0 ? "ok" : strerror(errno));
    } else if (strcmp(what, "ptrace") == 0 && argc > 2) {
        pid_t pid = (pid_t)atoi(argv[2]);
        long ok = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
        printf("ptrace=%s\n", ok == 0 ? "ok" : strerror(errno));
        if (ok == 0) {
            waitpid(pid, NULL, __WALL);
            ptrace(PTRACE_DETACH, pid, NULL, NULL);
        }
    } else if (strcmp(what, "read") == 0 && argc > 2) {
        int fd = open(argv[2], O_RDONLY);
        printf("read=%s\n", fd >= 0 ? "ok" : strerror(errno));
    } else if (strcmp(what, "forkbomb") == 0 && argc > 3) {
        /* J3: fork until refused (or MAX), hold the children for SECONDS */
        int secs = atoi(argv[2]), max = atoi(argv[3]), n = 0, err = 0;
        for (;;) {
            pid_t p = fork();
            if (p == 0) {
                sleep((unsigned)secs);
                _exit(0);
            }
            if (p < 0) {
                err = errno;
                break;
            }
            if (++n >= max)
                break;
        }
        printf("forked=%d stopped_by=%s\n", n, err ? strerror(err) : "count");
        fflush(stdout);
        sleep((unsigned)secs);
    } else if (strcmp(what, "exit") == 0 && argc > 2) {
        return atoi(argv[2]);
    } else if (strcmp(what, "keyring") == 0 && argc > 4) {
        keyring(atol(argv[2]), atol(argv[3]), argv[4]);
    } else if (strcmp(what, "unshare") == 0) {
        namespaces();
#ifdef __x86_64__
    } else if (strcmp(what, "int80") == 0) {
        foreign_abi();
#endif
    } else if (strcmp(what, "stdio") == 0) {
        stdio();
    } else if (strcmp(what, "sockstate") == 0) {
        sockstate(argc > 2 ? atol(argv[2]) : -1);
    } else if (strcmp(what, "lowat") == 0 && argc > 2) {
        int v = atoi(argv[2]);
        if (setsockopt(0, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) < 0)
            printf("setlowat=%s\n", strerror(errno));
        sockstate(argc > 3 ? atol(argv[3]) : -1);
    } else if (strcmp(what, "tlshello") == 0) {
        tlshello();
    } else if (strcmp(what, "readall") == 0) {
        char buf[65536];
        size_t total = 0;
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0) {
            total += (size_t)n;
            if (total >= 4 && memmem(buf, (size_t)n, "END\n", 4))
                break;
        }
        printf("bytes=%zu\n", total);
    } else if (strcmp(what, "killpg") == 0) {
        if (argc > 2) {
            uid_t u = (uid_t)atoi(argv[2]);
            printf("setresuid=%s\n", setresuid(u, u, u) == 0 ? "ok" : strerror(errno));
        }
        printf("killpg=sending\n");
        fflush(stdout);
        kill(0, SIGKILL);
        printf("killpg=survived\n");
    } else if (strcmp(what, "killall") == 0) {
        killall(argc > 2 ? argv[2] : NULL);
    } else if (strcmp(what, "tty") == 0) {
        tty_probe();
    } else if (strcmp(what, "sleep") == 0 && argc > 2) {
        printf("sleeping=%d\n", (int)getpid());
        fflush(stdout);
        sleep((unsigned)atoi(argv[2]));
    } else if (strcmp(what, "hold") == 0 && argc > 3) {
        hold(atof(argv[2]), argv[3]);
    } else if (strcmp(what, "daemon") == 0 && argc > 3) {
        daemonise(atof(argv[2]), argv[3]);
    } else if (strcmp(what, "bind") == 0 && argc > 3) {
        bind_probe(argv[2], argv[3]);
    } else if (strcmp(what, "landlock") == 0) {
        long abi = syscall(444 /* landlock_create_ruleset */, NULL, 0, 1U /* _VERSION */);
        printf("landlock_abi=%ld\n", abi < 0 ? 0L : abi);
    } else if (strcmp(what, "abstract") == 0 && argc > 2) {
        abstract_probe(argv[2]);
    } else {
        printf("usage=probe info|escape MARKER|regain|mknod|mount|kill PID|ptrace PID|read PATH|readall|stdio|keyring "
               "SES USER PLANT|unshare|int80\n");
        return 2;
    }
    return 0;
}
