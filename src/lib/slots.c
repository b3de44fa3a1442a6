#include "slots.h"

#include "exitcodes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- SipHash-2-4 ------------------------------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#define SIPROUND                                                                                                       \
    do {                                                                                                               \
        v0 += v1;                                                                                                      \
        v1 = ROTL(v1, 13);                                                                                             \
        v1 ^= v0;                                                                                                      \
        v0 = ROTL(v0, 32);                                                                                             \
        v2 += v3;                                                                                                      \
        v3 = ROTL(v3, 16);                                                                                             \
        v3 ^= v2;                                                                                                      \
        v0 += v3;                                                                                                      \
        v3 = ROTL(v3, 21);                                                                                             \
        v3 ^= v0;                                                                                                      \
        v2 += v1;                                                                                                      \
        v1 = ROTL(v1, 17);                                                                                             \
        v1 ^= v2;                                                                                                      \
        v2 = ROTL(v2, 32);                                                                                             \
    } while (0)

uint64_t vh_siphash24(const unsigned char key[VH_LIMITS_KEY_LEN], const void *data, size_t n)
{
    const unsigned char *in = data;
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    size_t full = n - n % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)n << 56;
    for (size_t i = 0; i < n % 8; i++)
        b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the key ----------------------------------------------------------- */

static int read_key(int fd, const char *path, unsigned char key[VH_LIMITS_KEY_LEN], vh_err *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return vh_fail(e, VH_EX_OSERR, "fstat %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) || st.st_size != VH_LIMITS_KEY_LEN)
        return vh_fail(e, VH_EX_CONFIG,
                       "limits key %s is not a root-owned 0600 file of %d bytes - remove it (virtuald makes a new one)",
                       path, VH_LIMITS_KEY_LEN);
    ssize_t got = pread(fd, key, VH_LIMITS_KEY_LEN, 0);
    if (got != VH_LIMITS_KEY_LEN)
        return vh_fail(e, VH_EX_OSERR, "reading %s: %s", path, got < 0 ? strerror(errno) : "short read");
    return 0;
}

int vh_limits_key(const char *path, unsigned char key[VH_LIMITS_KEY_LEN], vh_err *e)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) {
        /* First use after boot: a whole key appears at once (an unnamed
         * file linked in), and whoever links first wins; the others read
         * the winner's. */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (!slash)
            return vh_fail(e, VH_EX_SOFTWARE, "limits key path %s is not absolute", path);
        *slash = slash == dir ? '/' : '\0';
        if (slash == dir)
            dir[1] = '\0';
        int tfd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (tfd < 0)
            return vh_fail(e, VH_EX_OSERR, "cannot create the limits key in %s: %s", dir, strerror(errno));
        unsigned char fresh[VH_LIMITS_KEY_LEN];
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", tfd);
        if (getrandom(fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh ||
            write(tfd, fresh, sizeof fresh) != (ssize_t)sizeof fresh || fchmod(tfd, 0600) < 0 ||
            (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)) {
            int err = errno;
            close(tfd);
            return vh_fail(e, VH_EX_OSERR, "cannot create the limits key %s: %s", path, strerror(err));
        }
        close(tfd);
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    }
    if (fd < 0)
        return vh_fail(e, VH_EX_OSERR, "cannot open the limits key %s: %s", path, strerror(errno));
    int rc = read_key(fd, path, key, e);
    close(fd);
    return rc;
}

/* ---- slots ------------------------------------------------------------- */

uint32_t vh_limits_bucket(const unsigned char key[VH_LIMITS_KEY_LEN], const vh_limit *l, const vh_endpoint *source)
{
    unsigned char a[17];
    memset(a, 0, sizeof a);
    int family = source->family == AF_INET6 ? AF_INET6 : AF_INET;
    if (vh_addr_bytes(source->text, family, a + 1) < 0)
        memset(a, 0, sizeof a); /* no address: one shared bucket */
    unsigned bits = family == AF_INET ? 32 : 128, len = family == AF_INET ? l->prefix4 : l->prefix6;
    vh_addr_mask(a + 1, family, len > bits ? bits : len);
    a[0] = (unsigned char)(family == AF_INET ? 4 : 6);
    return (uint32_t)(vh_siphash24(key, a, 1 + bits / 8) % VH_LIMITS_BUCKETS);
}

/* fcntl cmd (F_OFD_SETLK or F_OFD_GETLK) with a lock of type over
 * [start, start + len) of fd, described in *fl (GETLK writes its answer
 * there). fcntl's result. */
static int lock_range(int fd, int cmd, short type, off_t start, off_t len, struct flock *fl)
{
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = start;
    fl->l_len = len;
    return fcntl(fd, cmd, fl);
}

/* Try the one-byte write lock at off: 1 taken, 0 held by another, -1. */
static int try_slot(int fd, off_t off)
{
    struct flock fl;
    if (lock_range(fd, F_OFD_SETLK, F_WRLCK, off, 1, &fl) == 0)
        return 1;
    return errno == EAGAIN || errno == EACCES ? 0 : -1;
}

/* One free slot of [base, base + n), from start round robin: its offset,
 * -1 none free, -2 an error. */
static off_t take_one(int fd, off_t base, uint32_t n, uint32_t start)
{
    for (uint32_t k = 0; k < n; k++) {
        off_t off = base + (off_t)((start + k) % n);
        int r = try_slot(fd, off);
        if (r == 1)
            return off;
        if (r < 0)
            return -2;
    }
    return -1;
}

static void release_slot(int fd, off_t off)
{
    struct flock fl;
    lock_range(fd, F_OFD_SETLK, F_UNLCK, off, 1, &fl);
}

static int count_locks(int fd, off_t start, off_t end, uint32_t *n);

/* A limit lowered while connections hold slots past it: those slots are
 * outside [base, base + n) and take_one does not see them. One
 * F_OFD_GETLK over [base + n, base + cap) finds none in the usual case;
 * else every slot others hold in [base, base + cap) is counted, and the
 * limit holds until enough of them have ended. 1 over the limit, 0 not,
 * -1 an error. */
static int over_lowered(int fd, off_t base, uint32_t n, uint32_t cap)
{
    if (n >= cap)
        return 0;
    struct flock fl;
    if (lock_range(fd, F_OFD_GETLK, F_WRLCK, base + n, (off_t)(cap - n), &fl) < 0)
        return -1;
    if (fl.l_type == F_UNLCK)
        return 0;
    uint32_t held = 0; /* others' only: our own locks never conflict */
    if (count_locks(fd, base, base + cap, &held) < 0)
        return -1;
    return held >= n;
}

int vh_limits_take(int fd, const vh_limit *l, const unsigned char key[VH_LIMITS_KEY_LEN], const vh_endpoint *source,
                   const char *what, vh_err *e)
{
    off_t inst = -1;
    if (l->max_instances) {
        inst = take_one(fd, 0, l->max_instances, (uint32_t)getpid() % l->max_instances);
        int over = inst >= 0 ? over_lowered(fd, 0, l->max_instances, VH_LIMITS_INSTANCES_MAX) : 0;
        if (over != 0) {
            int err = errno;
            release_slot(fd, inst);
            inst = over < 0 ? -2 : -1;
            errno = err;
        }
        if (inst == -2)
            return vh_fail(e, VH_EX_OSERR, "locking an instance slot of %s: %s", what, strerror(errno));
        if (inst == -1)
            return vh_fail(e, VH_EX_TEMPFAIL,
                           "domain %s is at its limit of %u instances - try later, or raise it with vhostctl set "
                           "--max-instances",
                           what, l->max_instances);
    }
    if (l->max_per_source) {
        uint32_t b = vh_limits_bucket(key, l, source);
        off_t base = VH_LIMITS_SRC_BASE + (off_t)b * VH_LIMITS_PER_SOURCE_MAX;
        off_t s = take_one(fd, base, l->max_per_source, 0);
        int over = s >= 0 ? over_lowered(fd, base, l->max_per_source, VH_LIMITS_PER_SOURCE_MAX) : 0;
        if (over != 0) {
            int err = errno;
            release_slot(fd, s);
            s = over < 0 ? -2 : -1;
            errno = err;
        }
        if (s < 0) {
            int err = errno;
            if (inst >= 0)
                release_slot(fd, inst);
            if (s == -2)
                return vh_fail(e, VH_EX_OSERR, "locking a source slot of %s: %s", what, strerror(err));
            return vh_fail(e, VH_EX_TEMPFAIL,
                           "domain %s is at its limit of %u connections from %s/%u - try later, or raise it with "
                           "vhostctl set --max-per-source",
                           what, l->max_per_source, source->text, source->family == AF_INET6 ? l->prefix6 : l->prefix4);
        }
    }
    return 0;
}

/* Bytes locked by other open files within [start, end): F_OFD_GETLK
 * names one conflicting lock (any of them, not the lowest), so the
 * ranges on both sides of it are searched again: 2k + 1 calls for k
 * locks, the ranges still to search kept in a growing list. */
static int count_locks(int fd, off_t start, off_t end, uint32_t *n)
{
    size_t cap = 64, top = 0;
    off_t(*todo)[2] = malloc(cap * sizeof *todo);
    if (!todo)
        return -1;
    todo[top][0] = start, todo[top++][1] = end;
    int rc = 0;
    while (top > 0 && rc == 0) {
        off_t a = todo[top - 1][0], b = todo[top - 1][1];
        top--;
        if (a >= b)
            continue;
        struct flock fl;
        if (lock_range(fd, F_OFD_GETLK, F_WRLCK, a, b - a, &fl) < 0) {
            rc = -1;
            break;
        }
        if (fl.l_type == F_UNLCK)
            continue;
        off_t ls = fl.l_start < a ? a : fl.l_start;
        off_t le = fl.l_len == 0 || fl.l_start + fl.l_len > b ? b : fl.l_start + fl.l_len;
        *n += (uint32_t)(le - ls);
        if (top + 2 > cap) {
            void *more = realloc(todo, 2 * cap * sizeof *todo);
            if (!more) {
                rc = -1;
                break;
            }
            todo = more;
            cap *= 2;
        }
        todo[top][0] = a, todo[top++][1] = ls;
        todo[top][0] = le, todo[top++][1] = b;
    }
    free(todo);
    return rc;
}

int vh_limits_held(int fd, const vh_limit *l, uint32_t *instances, uint32_t *sources, vh_err *e)
{
    *instances = *sources = 0;
    /* the whole region: slots held past a limit lowered meanwhile count
     * (the list shows 5/2 until they end) */
    if ((l->max_instances && count_locks(fd, 0, VH_LIMITS_INSTANCES_MAX, instances) < 0) ||
        (l->max_per_source &&
         count_locks(fd, VH_LIMITS_SRC_BASE, VH_LIMITS_SRC_BASE + (off_t)VH_LIMITS_BUCKETS * VH_LIMITS_PER_SOURCE_MAX,
                     sources) < 0))
        return vh_fail(e, VH_EX_OSERR, "F_OFD_GETLK: %s", strerror(errno));
    return 0;
}
