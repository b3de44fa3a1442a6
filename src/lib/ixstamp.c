#include "ixstamp.h"

#include "fd.h"
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The database state an index describes, as virtuald can see it without
 * SQLite. With an empty (or no) -wal file the state is the database file
 * alone: its 100-byte header (file change counter, page count, schema
 * cookie, versions, WAL mode), inode, size and times. With frames in the
 * -wal, it is also the WAL-index header in -shm (frame count, salts and
 * running frame checksum, which move with every commit; a reset log gets
 * new random salts) - trusted only while some connection holds the -shm
 * (SQLite's DMS lock): with none, the -shm may be older than the -wal
 * (power loss, a killed writer) and SQLite itself would rebuild it, so
 * virtuald asks SQLite. The header's iChange and checksum are left out
 * (recovery rebuilds the same frames with other bookkeeping), and with no
 * frames so is the rest of it. (The struct is ixfmt.h's vh_ixfmt_stamp.) */

const char *vh_ixstamp_canon(const unsigned char *shm, const unsigned char *dbhdr, const struct stat *st,
                             vh_ixfmt_stamp *id)
{
    memset(id, 0, sizeof *id);
    if (memcmp(dbhdr, VH_SQLITE_DBHDR_MAGIC, VH_SQLITE_DBHDR_MAGIC_LEN) != 0 ||
        dbhdr[VH_SQLITE_DBHDR_WRITE_VERSION] != VH_SQLITE_DBHDR_VERSION_WAL ||
        dbhdr[VH_SQLITE_DBHDR_READ_VERSION] != VH_SQLITE_DBHDR_VERSION_WAL)
        return "the database is not in WAL mode";
    /* the boot: file times may not survive a crash (lazytime, fdatasync),
     * a stamp never outlives the boot it was made in */
    int bfd = open(VH_BOOT_ID_FILE, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    ssize_t bn = bfd < 0 ? -1 : read(bfd, id->boot_id, sizeof id->boot_id - 1);
    if (bfd >= 0)
        close(bfd);
    if (bn < 32)
        return "cannot read this boot's id";
    if (shm) {
        if (memcmp(shm, shm + VH_SQLITE_SHM_HDR_SIZE, VH_SQLITE_SHM_HDR_SIZE) != 0)
            return "the WAL index is being written";
        if (vh_ixfmt_rd32(shm + VH_SQLITE_SHM_IVERSION) != VH_SQLITE_SHM_VERSION || shm[VH_SQLITE_SHM_ISINIT] != 1)
            return "the WAL index is not initialised";
        /* its own checksum, as SQLite's readers check it (native order) */
        uint32_t s1 = 0, s2 = 0;
        for (int i = 0; i < VH_SQLITE_SHM_CKSUM; i += 8) {
            s1 += vh_ixfmt_rd32(shm + i) + s2;
            s2 += vh_ixfmt_rd32(shm + i + 4) + s1;
        }
        if (s1 != vh_ixfmt_rd32(shm + VH_SQLITE_SHM_CKSUM) || s2 != vh_ixfmt_rd32(shm + VH_SQLITE_SHM_CKSUM + 4))
            return "the WAL index header fails its checksum";
        id->mx_frame = vh_ixfmt_rd32(shm + VH_SQLITE_SHM_MXFRAME);
        /* frames in the -wal that the WAL index does not count: a log
         * being reset, or copied into the database file while this runs -
         * the file's identity, read before, may be older than the state */
        if (!id->mx_frame)
            return "the WAL holds frames its index does not count";
        id->version = VH_SQLITE_SHM_VERSION;
        id->sz_page = (uint32_t)shm[VH_SQLITE_SHM_SZPAGE] | (uint32_t)shm[VH_SQLITE_SHM_SZPAGE + 1] << 8;
        id->n_page = vh_ixfmt_rd32(shm + VH_SQLITE_SHM_NPAGE);
        id->frame_cksum[0] = vh_ixfmt_rd32(shm + VH_SQLITE_SHM_FRAMECKSUM);
        id->frame_cksum[1] = vh_ixfmt_rd32(shm + VH_SQLITE_SHM_FRAMECKSUM + 4);
        id->salt[0] = vh_ixfmt_rd32(shm + VH_SQLITE_SHM_SALT);
        id->salt[1] = vh_ixfmt_rd32(shm + VH_SQLITE_SHM_SALT + 4);
    }
    memcpy(id->dbhdr, dbhdr, VH_SQLITE_DBHDR_SIZE);
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_s = (int64_t)st->st_mtim.tv_sec;
    id->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
    id->ctime_s = (int64_t)st->st_ctim.tv_sec;
    id->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
    return NULL;
}

int vh_ixstamp_wal_frames(const char *dbpath)
{
    char walpath[PATH_MAX + 8];
    struct stat st;
    if ((size_t)snprintf(walpath, sizeof walpath, "%s" VH_WAL_SUFFIX, dbpath) >= sizeof walpath)
        return -1;
    if (lstat(walpath, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISREG(st.st_mode))
        return -1;
    return st.st_size > 0;
}

/* The state of the database files as they are now, read without SQLite
 * (virtuald, before any SQLite connection exists in the process: closing
 * these descriptors cannot drop a lock SQLite holds). The -wal first: if
 * it is empty, no commit is outside the database file at that moment,
 * and the file's identity (read after) names the state. A connection in
 * exclusive locking mode keeps its WAL index private and holds a write
 * lock on the database's shared-lock bytes: such a lock means "cannot
 * tell", as does a non-empty -wal whose -shm no connection holds. */
const char *vh_ixstamp_now(const char *dbpath, vh_ixfmt_stamp *id)
{
    char shmpath[PATH_MAX + 8];
    unsigned char dbhdr[VH_SQLITE_DBHDR_SIZE], shm[VH_SQLITE_SHM_READ];
    struct stat st;
    if ((size_t)snprintf(shmpath, sizeof shmpath, "%s" VH_SHM_SUFFIX, dbpath) >= sizeof shmpath)
        return "path too long";
    int frames = vh_ixstamp_wal_frames(dbpath);
    if (frames < 0)
        return "cannot tell the -wal file's size";
    int fd = open(dbpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return "cannot open the database";
    const char *why = NULL;
    struct flock fl = {
        .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = VH_SQLITE_SHARED_FIRST, .l_len = VH_SQLITE_SHARED_SIZE};
    if (fstat(fd, &st) < 0 || vh_fd_pread_full(fd, dbhdr, sizeof dbhdr, 0) != (ssize_t)sizeof dbhdr)
        why = "cannot read the database header";
    else if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type != F_UNLCK)
        why = "a connection holds the database exclusively";
    close(fd);
    if (why)
        return why;
    if (!frames)
        return vh_ixstamp_canon(NULL, dbhdr, &st, id);
    int sfd = open(shmpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (sfd < 0)
        return "no WAL index (-shm)";
    /* SQLite's DMS lock (VH_SQLITE_SHM_DMS): held, shared, by every
     * connection that uses the -shm; the first one to arrive rebuilt it */
    struct flock dms = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = VH_SQLITE_SHM_DMS, .l_len = 1};
    ssize_t n = -1;
    /* held shared: in use; held exclusively: being (re)built */
    if (fcntl(sfd, F_GETLK, &dms) == 0 && dms.l_type == F_RDLCK)
        n = vh_fd_pread_full(sfd, shm, sizeof shm, 0);
    else
        why = "the WAL holds frames and no connection keeps its index";
    close(sfd);
    if (why)
        return why;
    if (n != (ssize_t)sizeof shm)
        return "the WAL index is too short";
    return vh_ixstamp_canon(shm, dbhdr, &st, id);
}
