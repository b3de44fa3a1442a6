/* ixstamp.h - the identity of the database state a lookup index
 * describes (doc/design.md "The lookup index"), read from SQLite's files
 * without SQLite. Every SQLite on-disk offset used is named here, with
 * where SQLite documents or defines it. */
#ifndef VH_IXSTAMP_H
#define VH_IXSTAMP_H

#include "ixfmt.h"

#include <sys/stat.h>

/* The database file's header: sqlite.org/fileformat2.html, section 1.3
 * "The Database Header" (100 bytes at offset 0). */
#define VH_SQLITE_DBHDR_SIZE 100
#define VH_SQLITE_DBHDR_MAGIC "SQLite format 3" /* "Magic Header String": 16 bytes with the NUL */
#define VH_SQLITE_DBHDR_MAGIC_LEN 16
#define VH_SQLITE_DBHDR_WRITE_VERSION 18 /* "File format version numbers" (and */
#define VH_SQLITE_DBHDR_READ_VERSION 19  /* walformat.html section 1): 2 in both, WAL mode */
#define VH_SQLITE_DBHDR_VERSION_WAL 2

/* The database file's lock bytes: fileformat2.html, section "The
 * Lock-Byte Page"; SQLite's os.h PENDING_BYTE 0x40000000, SHARED_FIRST
 * PENDING_BYTE + 2, SHARED_SIZE 510. A connection in exclusive locking
 * mode holds a write lock on the shared range. */
#define VH_SQLITE_SHARED_FIRST (0x40000000 + 2)
#define VH_SQLITE_SHARED_SIZE 510

/* The WAL-index (-shm): sqlite.org/walformat.html, section 2.1 "The
 * WAL-Index Header": two copies of a 48-byte header (wal.c WalIndexHdr)
 * at offsets 0 and 48; its fields, at these offsets in each copy: */
#define VH_SQLITE_SHM_HDR_SIZE 48
#define VH_SQLITE_SHM_READ 96    /* both copies */
#define VH_SQLITE_SHM_IVERSION 0 /* u32 iVersion, WALINDEX_MAX_VERSION: */
#define VH_SQLITE_SHM_VERSION 3007000u
#define VH_SQLITE_SHM_ISINIT 12     /* u8 isInit, 1 once built */
#define VH_SQLITE_SHM_SZPAGE 14     /* u16 szPage */
#define VH_SQLITE_SHM_MXFRAME 16    /* u32 mxFrame */
#define VH_SQLITE_SHM_NPAGE 20      /* u32 nPage */
#define VH_SQLITE_SHM_FRAMECKSUM 24 /* u32 aFrameCksum[2] */
#define VH_SQLITE_SHM_SALT 32       /* u32 aSalt[2] */
#define VH_SQLITE_SHM_CKSUM 40      /* u32 aCksum[2], over bytes [0, 40) */
/* The -shm lock bytes: walformat.html, section 2.1.3 "WAL Locks";
 * os_unix.c UNIX_SHM_BASE 120 plus the eight WAL locks: UNIX_SHM_DMS,
 * held shared by every connection that uses the -shm. */
#define VH_SQLITE_SHM_DMS 128
/* One WAL-index page as SQLite maps it (wal.c WALINDEX_PGSZ). */
#define VH_SQLITE_SHM_PGSZ 32768

/* Fill id from the database's first VH_SQLITE_DBHDR_SIZE bytes and stat,
 * and - shm not NULL - the VH_SQLITE_SHM_READ bytes at the start of -shm
 * (both copies of the WAL-index header), and this boot's id. Returns
 * NULL, or why the state cannot be named. */
const char *vh_ixstamp_canon(const unsigned char *shm, const unsigned char *dbhdr, const struct stat *st,
                             vh_ixfmt_stamp *id);

/* Whether dbpath's -wal holds frames: 0 empty or absent, 1 frames, -1
 * not a regular file or cannot tell. */
int vh_ixstamp_wal_frames(const char *dbpath);

/* The state of dbpath's files as they are now, read without SQLite
 * (virtuald, before any SQLite connection exists in the process, so that
 * closing these descriptors cannot drop a lock SQLite holds). NULL, or
 * why it cannot be told. */
const char *vh_ixstamp_now(const char *dbpath, vh_ixfmt_stamp *id);

#endif
