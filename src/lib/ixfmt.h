/* ixfmt.h - the lookup index's file format (ix.h): header, key hash,
 * buckets, records. Pure: no I/O and no SQLite, so that every byte a
 * reader takes from the file goes through code that is fuzzed
 * (tests/fuzz/fuzz_ixfmt.c).
 *
 * File layout (host byte order; the file never leaves the machine):
 *   [0, 4096)            header (vh_ixfmt_hdr)
 *   [4096, heap_start)   nbuckets buckets, u64 each: 0 empty, 1 removed,
 *                        else a record's offset (low 40 bits) and the top
 *                        24 bits of its key's hash
 *   [heap_start, heap_end) records, appended, never rewritten
 * A record: u32 length (all of it), u32 0, u64 hash, then the
 * VH_ROW_NCOLS columns of vh_select_sql (VH_ROW_COLS), each u8 SQLite
 * type, i64 integer value, u32 text length, the text and a NUL - what
 * sqlite3_column_type/_int64/_text return, so that a row read from here
 * fills vh_row through the same code as one read from SQLite
 * (vh_row_from_cols).
 *
 * Writers (vhostctl, holding SQLite's write lock) change the file in
 * place: header invalid and seq odd, synced; records appended and buckets
 * set; synced; header valid with seq even. A rebuild writes a new file
 * and renames it over the old one. Readers take the header, look up, and
 * read seq again: a changed or odd seq, or valid 0, sends them to SQLite. */
#ifndef VH_IXFMT_H
#define VH_IXFMT_H

#include "row.h"

#include <stddef.h>
#include <stdint.h>

#define VH_IXFMT_MAGIC "VHINDEX\n"
/* 2: records carry the eleven columns of schema version 2 (VH_ROW_COLS);
 * a format-1 file (nine columns) is malformed to this reader.
 * 3: twelve, unjailed added (sql/003 section 1): a format-2 file is
 * stale to this reader (header refused: SQLite answers until vhostctl
 * rebuilds it), never read with the flag missing. */
/* 4: the header carries what sql/004 adds (prefix lengths of domains
 * rows in use, trusted PROXY sources); records unchanged. */
/* 5: records carry the sixteen columns of schema 5 (the limits). */
/* 6: seventeen, base added (sql/008): a format-5 file is stale to this
 * reader, never read with the base missing (a row would lose its base
 * and run with the jail's own, possibly absent, programs). */
#define VH_IXFMT_FORMAT 6
#define VH_IXFMT_ENDIAN 0x01020304u
#define VH_IXFMT_HDR 4096 /* the header's room; buckets start here */
#define VH_IXFMT_NCOLS VH_ROW_NCOLS
#define VH_IXFMT_REC_MAX 65536 /* larger rows are never indexed: SQLite answers */
#define VH_IXFMT_PROBES 4096   /* a longer probe chain means a damaged file */
#define VH_IXFMT_REC_HEAD 16   /* u32 length, u32 0, u64 hash */
#define VH_IXFMT_COL_HEAD 13   /* u8 type, i64 value, u32 text length */

/* The database state an index describes (ixstamp.h fills it; the fields
 * are SQLite's, ixstamp.h names where each comes from). With an empty
 * (or no) -wal file the state is the database file alone: its 100-byte
 * header, inode, size and times; with frames in the -wal, also the
 * WAL-index header's frame count, salts and running frame checksum. */
typedef struct vh_ixfmt_stamp {
    uint32_t mx_frame, n_page, sz_page, version;
    uint32_t frame_cksum[2], salt[2];
    unsigned char dbhdr[100];
    uint32_t pad;
    char boot_id[40]; /* this boot: a power loss never leaves a stamp true */
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
} vh_ixfmt_stamp;

/* One trusted PROXY source (sql/004 proxy_sources) in the header. */
#define VH_IXFMT_TRUST_MAX 32
typedef struct vh_ixfmt_trust {
    uint8_t family;   /* 4 or 6 */
    uint8_t len;      /* prefix length; 32 or 128: one address */
    uint8_t versions; /* bit 0 v1, bit 1 v2 */
    uint8_t svclen;   /* bytes of service */
    unsigned char net[16];
    char service[68]; /* the service or "*", NUL-terminated (VH_SERVICE_MAX is 64) */
} vh_ixfmt_trust;

/* features */
#define VH_IXFMT_F_TRUST 1u        /* proxy_sources has rows */
#define VH_IXFMT_F_TRUST_INLINE 2u /* ... and every one of them is in trust[] */

typedef struct vh_ixfmt_hdr {
    char magic[8];
    uint32_t format, endian;
    uint64_t seq;
    uint32_t valid;
    int32_t user_version, application_id, schema_cookie;
    int64_t unused;
    uint64_t nbuckets, nlive, ndead, heap_start, heap_end;
    vh_ixfmt_stamp id;
    /* format 4: sql/004, taken in the same read transaction as the rows */
    uint32_t features;    /* VH_IXFMT_F_* */
    uint32_t ntrust;      /* entries of trust[] in use (F_TRUST_INLINE) */
    uint64_t dom_len4;    /* bit p: a domains row is an IPv4 prefix of length p */
    uint64_t dom_len6[2]; /* bit p%64 of word p/64: an IPv6 prefix of length p */
    vh_ixfmt_trust trust[VH_IXFMT_TRUST_MAX];
} vh_ixfmt_hdr;
_Static_assert(sizeof(vh_ixfmt_hdr) <= VH_IXFMT_HDR, "the header fits its room");

typedef uint64_t vh_ixfmt_bucket;
#define VH_IXFMT_B_EMPTY 0
#define VH_IXFMT_B_REMOVED 1
#define VH_IXFMT_B_OFF(b) ((b) & ((1ULL << 40) - 1))
#define VH_IXFMT_B_TAG(h) ((h) >> 40 << 40)
#define VH_IXFMT_OFF_LIMIT (1ULL << 40) /* a record's offset must stay below */

/* One column as SQLite returned it; text points into the record (NUL
 * terminated) or, for encoding, at len bytes (NULL when len is 0). */
typedef struct vh_ixfmt_col {
    int type;
    int64_t ival;
    const char *text;
    uint32_t len;
} vh_ixfmt_col;

/* The key's hash (FNV-1a over service, 0xff, address), never 0 or 1 (the
 * bucket markers). */
uint64_t vh_ixfmt_hash(const char *svc, size_t ls, const char *adr, size_t la);

/* A native-order u32 at p (no alignment needed). */
uint32_t vh_ixfmt_rd32(const unsigned char *p);

/* 1 when h is a header of this format that fits a file of fsize bytes:
 * magic, format, byte order, a power-of-two bucket count, the heap where
 * the buckets end and within the file; format 4's fields in range (every
 * trusted source entry well formed, no prefix length out of range).
 * 0 otherwise. */
int vh_ixfmt_hdr_sane(const vh_ixfmt_hdr *h, uint64_t fsize);

/* Split the record p (n bytes, its whole length) into its columns, which
 * point into p. 0, or -1 when it is not a well-formed record (a column
 * past the end, a text without its NUL, bytes left over). */
int vh_ixfmt_rec_parse(const unsigned char *p, size_t n, vh_ixfmt_col c[VH_IXFMT_NCOLS]);

/* The bytes a record of columns c takes. */
size_t vh_ixfmt_rec_size(const vh_ixfmt_col c[VH_IXFMT_NCOLS]);

/* Write the record of columns c (service and address first) into out,
 * which holds vh_ixfmt_rec_size(c) bytes; *hash gets its key's hash.
 * Returns its length. */
size_t vh_ixfmt_rec_encode(const vh_ixfmt_col c[VH_IXFMT_NCOLS], unsigned char *out, uint64_t *hash);

/* Put offset off for hash into the first free bucket of its chain in
 * b[0..nb) (nb a power of two). 0, or -1 when every bucket is taken. */
int vh_ixfmt_bucket_put(vh_ixfmt_bucket *b, uint64_t nb, uint64_t hash, uint64_t off);

#endif
