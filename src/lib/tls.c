#include "tls.h"

#include <stdint.h>
#include <string.h>

static vh_tls_status need(vh_tls_result *r, size_t total)
{
    r->status = VH_TLS_NEED;
    r->len = total;
    return r->status;
}

static vh_tls_status refuse(vh_tls_result *r, vh_tls_reason why)
{
    r->status = VH_TLS_REFUSED;
    r->reason = why;
    r->len = 0;
    return r->status;
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* fleet.md 2.4, RFC 6066 3: extension_data is a ServerNameList whose
 * length is the rest exactly, holding exactly one host_name (an entry of
 * another type cannot be skipped: its format is undefined). */
static vh_tls_reason server_name(const unsigned char *d, size_t n, vh_tls_result *r)
{
    if (n < 2 || be16(d) != n - 2 || n == 2)
        return VH_TLS_R_SNI_FORMAT; /* empty (a ServerHello's), list length wrong, list empty */
    size_t off = 2;
    while (off < n) {
        if (n - off < 3)
            return VH_TLS_R_SNI_FORMAT;
        unsigned type = d[off];
        size_t len = be16(d + off + 1);
        if (type != VH_TLS_NAME_HOST)
            return VH_TLS_R_SNI_NAME_TYPE;
        if (len > n - off - 3)
            return VH_TLS_R_SNI_FORMAT;
        if (r->has_sni)
            return VH_TLS_R_SNI_TWO_NAMES;
        if (len == 0)
            return VH_TLS_R_SNI_EMPTY;
        switch (vh_hostname_norm(d + off + 3, len, r->name)) {
        case VH_HOSTNAME_OK: break;
        case VH_HOSTNAME_BYTE:
        case VH_HOSTNAME_CHAR: return VH_TLS_R_NAME_BYTES;
        case VH_HOSTNAME_LENGTH: return VH_TLS_R_NAME_LENGTH;
        case VH_HOSTNAME_LABEL: return VH_TLS_R_NAME_LABEL;
        case VH_HOSTNAME_HYPHEN: return VH_TLS_R_NAME_HYPHEN;
        default: return VH_TLS_R_NAME_BYTES;
        }
        r->has_sni = 1;
        off += 3 + len;
    }
    return VH_TLS_R_NONE;
}

/* fleet.md 2.3 and 2.4 on the whole ClientHello body b[0..n), n within
 * 41..16384: every length checked against the bytes left before use. */
static vh_tls_reason body(const unsigned char *b, size_t n, vh_tls_result *r)
{
    size_t off = 0;
    r->client_version = be16(b);
    if (r->client_version < 0x0301)
        return VH_TLS_R_CLIENT_VERSION;
    off = 2 + 32; /* legacy_version, random: n >= 41 covers them and the next byte */
    size_t sid = b[off++];
    if (sid > VH_TLS_SESSION_ID_MAX)
        return VH_TLS_R_SESSION_ID;
    if (sid > n - off)
        return VH_TLS_R_BODY;
    off += sid;
    if (n - off < 2)
        return VH_TLS_R_BODY;
    size_t cs = be16(b + off);
    off += 2;
    if (cs < 2 || cs % 2)
        return VH_TLS_R_CIPHER_SUITES;
    if (cs > n - off)
        return VH_TLS_R_BODY;
    off += cs;
    if (n - off < 1)
        return VH_TLS_R_BODY;
    size_t comp = b[off++];
    if (comp == 0)
        return VH_TLS_R_COMPRESSION;
    if (comp > n - off)
        return VH_TLS_R_BODY;
    off += comp;
    if (off == n)
        return VH_TLS_R_NONE; /* no extensions: no name (TLS 1.2 allows it; fleet.md 2.3) */
    if (n - off < 2 || be16(b + off) != n - off - 2)
        return VH_TLS_R_EXTENSIONS;
    off += 2;
    /* a type seen before is a duplicate (TLS 4.2): one bit per type, on
     * the stack, so that thousands of tiny extensions cost one pass */
    unsigned char seen[65536 / 8];
    memset(seen, 0, sizeof seen);
    while (off < n) {
        if (n - off < 4)
            return VH_TLS_R_EXTENSION;
        unsigned type = be16(b + off);
        size_t len = be16(b + off + 2);
        off += 4;
        if (len > n - off)
            return VH_TLS_R_EXTENSION;
        if (seen[type >> 3] & (1u << (type & 7)))
            return VH_TLS_R_DUPLICATE;
        seen[type >> 3] |= (unsigned char)(1u << (type & 7));
        if (type == VH_TLS_EXT_SERVER_NAME) {
            vh_tls_reason why = server_name(b + off, len, r);
            if (why != VH_TLS_R_NONE)
                return why;
        } else if (type == VH_TLS_EXT_ECH) {
            r->ech = 1; /* ignored: the outer name selects (fleet.md 2.4) */
        }
        off += len;
    }
    return VH_TLS_R_NONE;
}

vh_tls_status vh_tls_parse(const unsigned char *buf, size_t n, vh_tls_result *r)
{
    memset(r, 0, sizeof *r);
    if (n == 0)
        return need(r, 1);
    if (buf[0] != VH_TLS_CT_HANDSHAKE) {
        r->status = VH_TLS_NOT_TLS; /* fleet.md 2.2: SSLv2, HTTP, anything else */
        return r->status;
    }
    /* Walk the records; the handshake message is the concatenation of
     * their payloads (TLS 5.1). Its 4-byte header may itself be split. */
    unsigned char head[VH_TLS_HS_HEAD];
    size_t headn = 0;
    size_t msg = 0;                /* the whole message (header and body) once its header is known */
    size_t got = 0;                /* message bytes in the complete records before the current one */
    size_t off = 0;                /* the current record header */
    size_t at[VH_TLS_RECORDS_MAX]; /* each record's payload offset, for reassembly */
    unsigned k;
    for (k = 0;; k++) {
        if (k == VH_TLS_RECORDS_MAX)
            return refuse(r, VH_TLS_R_RECORDS); /* unreachable: caught at the 32nd header */
        size_t have = n > off ? n - off : 0;
        if (have >= 1 && buf[off] != VH_TLS_CT_HANDSHAKE)
            return refuse(r, VH_TLS_R_INTERLEAVED); /* k > 0: the first was checked above */
        if ((have >= 2 && buf[off + 1] != 0x03) || (have >= 3 && buf[off + 2] > 0x04))
            return refuse(r, VH_TLS_R_RECORD_VERSION);
        if (have < VH_TLS_RECORD_HEAD)
            return need(r, off + VH_TLS_RECORD_HEAD);
        size_t len = be16(buf + off + 3);
        if (len == 0 || len > VH_TLS_RECORD_MAX)
            return refuse(r, VH_TLS_R_RECORD_LENGTH);
        const unsigned char *p = buf + off + VH_TLS_RECORD_HEAD;
        size_t avail = have - VH_TLS_RECORD_HEAD < len ? have - VH_TLS_RECORD_HEAD : len;
        at[k] = off + VH_TLS_RECORD_HEAD;
        for (size_t i = 0; headn < VH_TLS_HS_HEAD && i < avail; i++)
            head[headn++] = p[i];
        /* the handshake header, checked byte by byte as it arrives */
        if (headn >= 1 && head[0] != VH_TLS_HS_CLIENT_HELLO)
            return refuse(r, VH_TLS_R_MSG_TYPE);
        if (headn >= 2 && head[1] != 0)
            return refuse(r, VH_TLS_R_HELLO_LENGTH); /* 65,536 or more */
        if (headn == VH_TLS_HS_HEAD && msg == 0) {
            size_t blen = (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
            if (blen < VH_TLS_HELLO_MIN || blen > VH_TLS_HELLO_MAX)
                return refuse(r, VH_TLS_R_HELLO_LENGTH);
            msg = VH_TLS_HS_HEAD + blen;
        }
        if (msg) {
            /* TLS 5.1: the ClientHello ends on a record boundary; a
             * record running past it carries trailing bytes */
            if (len > msg - got)
                return refuse(r, VH_TLS_R_TRAILING);
            if (k == VH_TLS_RECORDS_MAX - 1 && len < msg - got)
                return refuse(r, VH_TLS_R_RECORDS);
        }
        if (avail < len)
            return need(r, off + VH_TLS_RECORD_HEAD + len);
        got += len;
        off += VH_TLS_RECORD_HEAD + len;
        if (msg && got == msg)
            break;
    }
    /* complete: the body in one piece, straight from buf when the
     * ClientHello is in one record, else copied out of its records */
    size_t blen = msg - VH_TLS_HS_HEAD;
    const unsigned char *b;
    unsigned char joined[VH_TLS_HELLO_MAX];
    if (k == 0) {
        b = buf + at[0] + VH_TLS_HS_HEAD;
    } else {
        size_t skip = VH_TLS_HS_HEAD, w = 0;
        for (unsigned j = 0; j <= k; j++) {
            size_t len = be16(buf + at[j] - 2), s = skip < len ? skip : len;
            memcpy(joined + w, buf + at[j] + s, len - s);
            w += len - s;
            skip -= s;
        }
        b = joined;
    }
    vh_tls_reason why = body(b, blen, r);
    if (why != VH_TLS_R_NONE) {
        r->has_sni = 0;
        r->ech = 0;
        r->client_version = 0;
        r->name[0] = '\0';
        return refuse(r, why);
    }
    r->records = k + 1;
    r->status = VH_TLS_DONE;
    r->len = off;
    return r->status;
}

const char *vh_tls_reason_text(vh_tls_reason reason)
{
    switch (reason) {
    case VH_TLS_R_NONE: return "no error";
    case VH_TLS_R_RECORD_VERSION: return "TLS record version is not 3.0 to 3.4 (0x0300..0x0304)";
    case VH_TLS_R_RECORD_LENGTH: return "TLS record length is 0 or over 16384";
    case VH_TLS_R_INTERLEAVED: return "TLS record of another type between the fragments of the ClientHello";
    case VH_TLS_R_RECORDS: return "TLS ClientHello in more than 32 records";
    case VH_TLS_R_TRAILING: return "TLS record carries bytes after the end of the ClientHello";
    case VH_TLS_R_MSG_TYPE: return "TLS handshake does not start with a ClientHello";
    case VH_TLS_R_HELLO_LENGTH: return "TLS ClientHello length is outside 41..16384 bytes";
    case VH_TLS_R_CLIENT_VERSION: return "TLS ClientHello legacy_version is below 0x0301";
    case VH_TLS_R_SESSION_ID: return "TLS ClientHello session id is longer than 32 bytes";
    case VH_TLS_R_CIPHER_SUITES: return "TLS ClientHello cipher suites are empty or of odd length";
    case VH_TLS_R_COMPRESSION: return "TLS ClientHello has no compression method";
    case VH_TLS_R_BODY: return "TLS ClientHello field runs past the end of the message";
    case VH_TLS_R_EXTENSIONS: return "TLS ClientHello extensions length is not exactly the bytes left";
    case VH_TLS_R_EXTENSION: return "TLS ClientHello extension runs past the end of the extensions";
    case VH_TLS_R_DUPLICATE: return "TLS ClientHello has the same extension twice";
    case VH_TLS_R_SNI_FORMAT: return "TLS server_name extension is empty or its list length is wrong";
    case VH_TLS_R_SNI_TWO_NAMES: return "TLS server_name has two host names";
    case VH_TLS_R_SNI_NAME_TYPE: return "TLS server_name has an entry that is not a host name";
    case VH_TLS_R_SNI_EMPTY: return "TLS server_name host name is empty";
    case VH_TLS_R_NAME_BYTES:
        return "TLS server name has a byte other than a letter, digit, hyphen or dot (an IDN must be sent as its "
               "xn-- A-label)";
    case VH_TLS_R_NAME_LENGTH: return "TLS server name is longer than 253 bytes, or only a dot";
    case VH_TLS_R_NAME_LABEL: return "TLS server name has an empty label or a label longer than 63 bytes";
    case VH_TLS_R_NAME_HYPHEN: return "TLS server name has a label starting or ending with a hyphen";
    }
    return "unknown TLS refusal";
}
