/* proxy.h - the PROXY protocol header parser (v1 text, v2 binary), pure:
 * no I/O, no allocation, no global state. The caller peeks the first
 * bytes of a connection and asks what they are; reading exactly the
 * header off the socket is the caller's business (fleet.md 1.2).
 *
 * The rules are fleet.md 1.3 (v1) and 1.4 (v2), which follow haproxy's
 * doc/proxy-protocol.txt ("PP") sections 2.1 and 2.2. Where this parser
 * decides otherwise than the spec, doc/design.md "PROXY header parser"
 * says why. */
#ifndef VH_PROXY_H
#define VH_PROXY_H

#include "addr.h"
#include "hostname.h"

#include <stddef.h>
#include <stdint.h>

/* fleet.md 1.3, PP 2.1: the longest v1 line, CRLF included
 * ("TCP6" with two full IPv6 texts and two 5-digit ports). */
#define VH_PROXY_V1_MAX 107
/* PP 2.1: the v1 signature, one space included. */
#define VH_PROXY_V1_SIG "PROXY "
#define VH_PROXY_V1_SIG_LEN 6
/* fleet.md 1.4, PP 2.2: the v2 signature and its fixed part (signature,
 * ver_cmd, fam, len). Every v2 header is at least this long. */
#define VH_PROXY_V2_SIG_LEN 12
#define VH_PROXY_V2_FIXED 16
/* fleet.md 1.4 "Cap": a whole v2 header is at most 4 KiB (the spec
 * allows 16 + 65535; nginx also caps at 4096). */
#define VH_PROXY_V2_MAX 4096
/* fleet.md 1.4, PP 2.2: address block sizes by family. */
#define VH_PROXY_V2_ADDR_INET 12
#define VH_PROXY_V2_ADDR_INET6 36
#define VH_PROXY_V2_ADDR_UNIX 216
/* fleet.md 1.4, PP 2.2: a TLV is type(1) length(2, big endian) value. */
#define VH_PROXY_TLV_HEAD 3
/* fleet.md 1.4 TLV table: AUTHORITY (PP 2.2.2) 1..255 as haproxy's
 * PP2_AUTHORITY_MAX (the spec gives no bound); CRC32C exactly 4 bytes
 * (PP 2.2.3: a 32-bit number); UNIQUE_ID up to 128 bytes (PP 2.2.5). */
#define VH_PROXY_AUTHORITY_MAX 255
#define VH_PROXY_UNIQUE_ID_MAX 128
#define VH_PROXY_CRC32C_LEN 4
/* fleet.md 2.6: a host name is at most 253 bytes, labels 1..63; the
 * check itself is hostname.h's, shared with the ClientHello parser. */
#define VH_PROXY_NAME_MAX VH_HOSTNAME_MAX
#define VH_PROXY_LABEL_MAX VH_HOSTNAME_LABEL_MAX
/* The most a caller ever needs to peek to get an answer: one byte past
 * the largest header tells a second header's first byte (fleet.md 1.2,
 * CAP = 4096 + 1). */
#define VH_PROXY_PEEK_MAX (VH_PROXY_V2_MAX + 1)

/* PP 2.2: v2 TLV types that the parser reads (the others are skipped). */
#define VH_PROXY_TLV_ALPN 0x01
#define VH_PROXY_TLV_AUTHORITY 0x02
#define VH_PROXY_TLV_CRC32C 0x03
#define VH_PROXY_TLV_NOOP 0x04
#define VH_PROXY_TLV_UNIQUE_ID 0x05
#define VH_PROXY_TLV_SSL 0x20        /* client (1), verify (4), sub-TLVs */
#define VH_PROXY_SSL_CLIENT_SSL 0x01 /* its client bit: the client spoke TLS to the balancer */

typedef enum vh_proxy_status {
    VH_PROXY_NEED = 0, /* a prefix of a header so far: peek again */
    VH_PROXY_DONE,     /* a complete, valid header of exactly len bytes */
    VH_PROXY_REFUSED,  /* not a valid header: reason says why (exit 76) */
} vh_proxy_status;

typedef enum vh_proxy_command {
    VH_PROXY_CMD_LOCAL = 0, /* v2 LOCAL: the balancer's own connection */
    VH_PROXY_CMD_PROXY = 1, /* a proxied connection: src/dst are valid */
} vh_proxy_command;

/* Every refusal, one reason each (fleet.md 1.3 v1-N, 1.4). */
typedef enum vh_proxy_reason {
    VH_PROXY_R_NONE = 0,
    VH_PROXY_R_NOT_PROXY,      /* neither the v1 nor the v2 signature */
    VH_PROXY_R_V1_TOO_LONG,    /* v1-1: no CRLF within 107 bytes */
    VH_PROXY_R_V1_CRLF,        /* v1-2: lone CR or LF */
    VH_PROXY_R_V1_SYNTAX,      /* v1-3, v1-7: spaces, case, fields */
    VH_PROXY_R_V1_PROTOCOL,    /* v1-4: not TCP4, TCP6 or UNKNOWN */
    VH_PROXY_R_V1_ADDRESS,     /* v1-5: not an address of the family */
    VH_PROXY_R_V1_PORT,        /* v1-6: leading zero, range, 0 */
    VH_PROXY_R_V1_BYTE,        /* v1-8: a byte outside %x20-7E */
    VH_PROXY_R_V1_UNKNOWN,     /* v1-11: UNKNOWN */
    VH_PROXY_R_DESTINATION,    /* v1-9: unspecified, multicast, ... */
    VH_PROXY_R_SOURCE,         /* v1-10: unspecified, multicast, ... */
    VH_PROXY_R_V2_VERSION,     /* version nibble not 2 */
    VH_PROXY_R_V2_COMMAND,     /* command nibble not 0 or 1 */
    VH_PROXY_R_V2_FAMILY,      /* family > 3 or transport > 2 */
    VH_PROXY_R_V2_TOO_LONG,    /* 16 + len > 4096 */
    VH_PROXY_R_V2_SHORT,       /* len smaller than the address block */
    VH_PROXY_R_V2_UNSPEC,      /* PROXY with AF_UNSPEC */
    VH_PROXY_R_V2_UNSUPPORTED, /* PROXY over UDP, UNIX, or no transport */
    VH_PROXY_R_V2_PORT,        /* port 0 in a proxied header */
    VH_PROXY_R_V2_TLV,         /* a TLV runs past the header's end */
    VH_PROXY_R_V2_CRC_FORMAT,  /* CRC32C not 4 bytes, or twice */
    VH_PROXY_R_V2_CRC,         /* CRC32C mismatch */
    VH_PROXY_R_V2_AUTHORITY,   /* AUTHORITY empty, > 255, bad, twice */
    VH_PROXY_R_V2_UNIQUE_ID,   /* UNIQUE_ID > 128 bytes, or twice */
} vh_proxy_reason;

typedef struct vh_proxy_result {
    vh_proxy_status status;
    vh_proxy_reason reason; /* REFUSED only */
    int version;            /* 1 or 2 once the signature is seen, else 0 */
    /* DONE: the header's exact length (<= the bytes given). NEED: the
     * total number of bytes needed at least before asking again, always
     * more than given and never more than the header (so waiting for it
     * never waits for a service byte): 16 for v2 until its length is
     * known, then the whole header; one more byte for v1. */
    size_t len;
    /* DONE only. */
    vh_proxy_command command;
    int family;           /* PROXY: the destination's, AF_INET or AF_INET6 (mapped is AF_INET); LOCAL: AF_UNSPEC */
    vh_endpoint src, dst; /* PROXY only; canonical text as addr.h */
    int has_crc32c;       /* v2: a CRC32C TLV was present and matched */
    /* v2 AUTHORITY, normalised by the host-name rules of fleet.md 2.6;
     * empty when absent or when its labels are all digits. */
    char authority[VH_PROXY_NAME_MAX + 1];
    int has_authority;    /* v2: an AUTHORITY TLV was present, even one that is no name (an IP literal) */
    int tls_ended;        /* v2: a PP2_TYPE_SSL TLV with PP2_CLIENT_SSL: the balancer ended the client's TLS */
    int has_unique_id;    /* v2: a UNIQUE_ID TLV was present (maybe empty) */
    size_t unique_id_len; /* 0..128 */
    unsigned char unique_id[VH_PROXY_UNIQUE_ID_MAX]; /* raw bytes */
} vh_proxy_result;

/* Parse the first n bytes of a connection (n may be 0). Fills r and
 * returns r->status. Reads at most n bytes of buf, and never more than
 * the header: a DONE answer is the same for any bytes that follow it.
 * Refuses as early as the bytes allow (a v2 header over the cap is
 * refused from its first 16 bytes), and never refuses a prefix of a
 * valid header. */
vh_proxy_status vh_proxy_parse(const unsigned char *buf, size_t n, vh_proxy_result *r);

/* One line naming the rule a refusal broke, for the log. */
const char *vh_proxy_reason_text(vh_proxy_reason reason);

/* Whether buf starts with what only a PROXY header starts with: the v2
 * signature, or "PROXY TCP4 ", "PROXY TCP6 ", "PROXY UNKNOWN" (fleet.md
 * 1.1 for an untrusted peer, 1.2 for a second header). Incomplete
 * signatures answer 0: the check never waits. */
int vh_proxy_looks_like_header(const unsigned char *buf, size_t n);

/* CRC-32C (Castagnoli, reflected 0x82F63B78, init and final xor
 * 0xFFFFFFFF) of buf, for the CRC32C TLV (PP 2.2.3, RFC 4960 appendix B). */
uint32_t vh_proxy_crc32c(const unsigned char *buf, size_t n);

#endif
