/* tls.h - the TLS ClientHello parser for selection by server name
 * (issue 17), pure: no I/O, no allocation, no global state. The caller
 * peeks the first bytes of a connection (after any PROXY header) and asks
 * what they are; nothing is ever consumed: the service reads the
 * ClientHello itself.
 *
 * The rules are fleet.md 2.2 (record layer), 2.3 (handshake and body),
 * 2.4 (extensions and server_name), 2.5 (reassembly across records) and
 * 2.6 (host names, hostname.h), which follow RFC 8446 ("TLS") 4.1.2,
 * 4.2 and 5.1 and RFC 6066 3. Where this parser decides otherwise or
 * where fleet.md is silent, doc/design.md "ClientHello parser" says why. */
#ifndef VH_TLS_H
#define VH_TLS_H

#include "hostname.h"

#include <stddef.h>

/* TLS 5.1: a record header is type(1) legacy_record_version(2) length(2). */
#define VH_TLS_RECORD_HEAD 5
#define VH_TLS_CT_HANDSHAKE 0x16
/* TLS 5.1: "The length MUST NOT exceed 2^14 bytes" (and zero-length
 * handshake fragments are forbidden). */
#define VH_TLS_RECORD_MAX 16384
/* fleet.md 2.2: at most 32 records for one ClientHello. */
#define VH_TLS_RECORDS_MAX 32
/* TLS 4: a handshake header is msg_type(1) length(3). */
#define VH_TLS_HS_HEAD 4
#define VH_TLS_HS_CLIENT_HELLO 1
/* fleet.md 2.3: the ClientHello body (the 24-bit length) is at most
 * 16 KiB. Its least is 41 bytes: version 2, random 32, an empty session
 * id 1, one cipher suite 2+2, one compression method 1+1 (fleet.md says
 * 42; see doc/design.md). */
#define VH_TLS_HELLO_MAX 16384
#define VH_TLS_HELLO_MIN 41
/* TLS 4.1.2: legacy_session_id<0..32>. */
#define VH_TLS_SESSION_ID_MAX 32
/* TLS 4.2 extension types read here; the others are walked and skipped. */
#define VH_TLS_EXT_SERVER_NAME 0x0000
#define VH_TLS_EXT_ECH 0xfe0d
/* RFC 6066 3: NameType host_name. */
#define VH_TLS_NAME_HOST 0
/* The most a caller ever needs to peek: a ClientHello of the largest
 * size in the most records (fleet.md 2.2: 16,384 + 5 x 32, plus the
 * handshake header). */
#define VH_TLS_PEEK_MAX (VH_TLS_HS_HEAD + VH_TLS_HELLO_MAX + VH_TLS_RECORD_HEAD * VH_TLS_RECORDS_MAX)

typedef enum vh_tls_status {
    VH_TLS_NEED = 0, /* a prefix of a ClientHello so far: peek again */
    VH_TLS_DONE,     /* a complete, valid ClientHello in len bytes of records */
    VH_TLS_NOT_TLS,  /* the first byte is not a handshake record: no name, bytes untouched */
    VH_TLS_REFUSED,  /* a TLS handshake record, but not a valid ClientHello (exit 76) */
} vh_tls_status;

/* Every refusal, one reason each (fleet.md 2.2-2.6, table S6). */
typedef enum vh_tls_reason {
    VH_TLS_R_NONE = 0,
    VH_TLS_R_RECORD_VERSION, /* 2.2: legacy_record_version not 0x0300..0x0304 */
    VH_TLS_R_RECORD_LENGTH,  /* 2.2: record length 0 or over 16,384 */
    VH_TLS_R_INTERLEAVED,    /* 2.2: another record type before the ClientHello is complete */
    VH_TLS_R_RECORDS,        /* 2.2: the ClientHello in more than 32 records */
    VH_TLS_R_TRAILING,       /* 2.2: bytes after the ClientHello in its last record */
    VH_TLS_R_MSG_TYPE,       /* 2.3: the first handshake message is not a ClientHello */
    VH_TLS_R_HELLO_LENGTH,   /* 2.3: ClientHello length outside 41..16,384 */
    VH_TLS_R_CLIENT_VERSION, /* 2.3: legacy_version below 0x0301 */
    VH_TLS_R_SESSION_ID,     /* 2.3: legacy_session_id longer than 32 */
    VH_TLS_R_CIPHER_SUITES,  /* 2.3: cipher_suites empty or of odd length */
    VH_TLS_R_COMPRESSION,    /* 2.3: no compression method */
    VH_TLS_R_BODY,           /* 2.3: a field runs past the end of the ClientHello */
    VH_TLS_R_EXTENSIONS,     /* 2.3: extensions length not exactly the bytes left */
    VH_TLS_R_EXTENSION,      /* 2.4: an extension runs past the extensions block */
    VH_TLS_R_DUPLICATE,      /* 2.4: an extension type twice */
    VH_TLS_R_SNI_FORMAT,     /* 2.4: server_name empty, or its list length wrong */
    VH_TLS_R_SNI_TWO_NAMES,  /* 2.4: two host_name entries */
    VH_TLS_R_SNI_NAME_TYPE,  /* 2.4: a name_type other than host_name */
    VH_TLS_R_SNI_EMPTY,      /* 2.4: an empty host_name */
    VH_TLS_R_NAME_BYTES,     /* 2.6: a byte outside letters, digits, hyphen, dot (NUL, space, 8-bit) */
    VH_TLS_R_NAME_LENGTH,    /* 2.6: over 253 bytes, or nothing but a dot */
    VH_TLS_R_NAME_LABEL,     /* 2.6: an empty label or one over 63 bytes */
    VH_TLS_R_NAME_HYPHEN,    /* 2.6: a label starting or ending with a hyphen */
} vh_tls_reason;

typedef struct vh_tls_result {
    vh_tls_status status;
    vh_tls_reason reason; /* REFUSED only */
    /* NEED: the total number of bytes needed at least before asking
     * again, always more than given and never past the ClientHello's own
     * records (so waiting for it never waits for a byte the client has
     * not sent as part of the hello): the next record header, then the
     * end of that record. DONE: the bytes the ClientHello's records take
     * (<= the bytes given); what follows them is not looked at. */
    size_t len;
    /* DONE only. */
    unsigned records;        /* 1..32 */
    unsigned client_version; /* legacy_version, e.g. 0x0303 */
    int has_sni;             /* a server_name extension with a valid host_name was present */
    int ech;                 /* an encrypted_client_hello extension (0xfe0d) was present */
    /* The server name normalised by fleet.md 2.6 (hostname.h); empty
     * when there is none: no extensions, no server_name, or an IP
     * literal (has_sni set). */
    char name[VH_HOSTNAME_MAX + 1];
} vh_tls_result;

/* Parse the first n bytes of a connection (n may be 0). Fills r and
 * returns r->status. Reads at most n bytes of buf and never past the
 * ClientHello's last record: a DONE answer is the same for any bytes that
 * follow it. Refuses as early as the bytes allow (a bad record header from
 * its own bytes, a bad handshake header from its 4 bytes, a record that
 * runs past the ClientHello as soon as both lengths are known), and never
 * refuses a prefix of a valid ClientHello. */
vh_tls_status vh_tls_parse(const unsigned char *buf, size_t n, vh_tls_result *r);

/* One line naming the rule a refusal broke, for the log. */
const char *vh_tls_reason_text(vh_tls_reason reason);

#endif
