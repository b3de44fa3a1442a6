/* sha256.h - SHA-256 (FIPS 180-4), for the jails' manifest (manifest.h):
 * the checksum of every file provision copies, compared with the host's
 * file and the jail's copy. vhostctl links no crypto library; this is
 * the whole algorithm, tested with the FIPS 180-4 / NIST vectors
 * (tests/unit/test_manifest.c). */
#ifndef VH_SHA256_H
#define VH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define VH_SHA256_HEX 65 /* 64 hex digits and the NUL */

typedef struct vh_sha256 {
    uint32_t h[8];
    uint64_t bytes;        /* message length so far */
    unsigned char buf[64]; /* a partial block */
    size_t nbuf;
} vh_sha256;

void vh_sha256_init(vh_sha256 *s);
void vh_sha256_update(vh_sha256 *s, const void *data, size_t len);
/* The digest as 64 lower-case hex digits into hex (VH_SHA256_HEX bytes). */
void vh_sha256_final_hex(vh_sha256 *s, char hex[VH_SHA256_HEX]);

/* The digest of data, as hex. */
void vh_sha256_hex(const void *data, size_t len, char hex[VH_SHA256_HEX]);

/* The digest of everything read from fd (from where it stands, to end
 * of file), as hex; *size the bytes read (may be NULL). 0, or -1 with
 * errno. */
int vh_sha256_fd(int fd, char hex[VH_SHA256_HEX], uint64_t *size);

#endif
