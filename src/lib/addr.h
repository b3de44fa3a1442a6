/* addr.h - addresses: canonical text form, and the endpoints of fd 0. */
#ifndef VH_ADDR_H
#define VH_ADDR_H

#include "vherr.h"

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* Big enough for any canonical address text and for "default". */
#define VH_ADDR_TEXT 64

/* The keyword that stands for "any other address" in a row. */
#define VH_ADDR_DEFAULT "default"

typedef struct vh_endpoint {
    int family;              /* AF_INET or AF_INET6 (v4-mapped is AF_INET) */
    char text[VH_ADDR_TEXT]; /* canonical text, the database key form */
    unsigned port;
} vh_endpoint;

typedef struct vh_conn {
    vh_endpoint local;
    vh_endpoint remote;
} vh_conn;

/* Canonicalise an address given by an operator or a file: strict
 * inet_pton syntax (no 010.0.0.1, 10.1 or hex: THREATS G10), IPv6 in RFC
 * 5952 form, IPv4-mapped IPv6 as plain IPv4 (G1). Refuses what can never
 * be a dialled local address: unspecified, multicast, broadcast, IPv6
 * link-local and zones (G3, G9), prefixes (H8). "default" is returned
 * as itself when allow_default is set. Returns 0 or -1 with e filled. */
int vh_addr_canon(const char *in, int allow_default, char out[VH_ADDR_TEXT], vh_err *e);

/* ---- prefixes (issue 15, sql/004) ------------------------------------
 * A prefix row's key is the network address in canonical text (as
 * above) with every host bit zero, '/', and the length in decimal
 * without leading zeros: 127.0.1.0/24, fd56:6864:7600:20::/64. IPv4
 * /1-/31 and IPv6 /1-/127 only: /0 is spelt 'default', /32 and /128 as
 * the address, so that every set of addresses has one key (fleet.md 3.1). */

#define VH_PREFIX_V4_MAX 31
#define VH_PREFIX_V6_MAX 127

typedef struct vh_prefix {
    int family;            /* AF_INET or AF_INET6 */
    unsigned len;          /* 1..31 or 1..127 */
    unsigned char net[16]; /* network address, host bits zero (IPv4: first 4 bytes) */
} vh_prefix;

/* Canonicalise an operator's "NET/LEN". Refuses, naming the right form:
 * host bits set (suggests the network), /0 (use 'default'), /32 and
 * /128 (use the address), a length with a sign, leading zeros or over
 * the family's bits, an IPv4-mapped prefix (give the IPv4 prefix), a
 * zone, and prefixes lying wholly inside what is never dialled (IPv4 and
 * IPv6 multicast, IPv6 link-local). p may be NULL. 0, or -1 (VH_EX_DATAERR). */
int vh_prefix_canon(const char *in, char out[VH_ADDR_TEXT], vh_prefix *p, vh_err *e);

/* A row's key as an operator gives it: an address (vh_addr_canon), a
 * prefix (vh_prefix_canon) when it holds a '/', or 'default' when
 * allow_default. 0, or -1 (VH_EX_DATAERR). */
int vh_addr_key_canon(const char *in, int allow_default, char out[VH_ADDR_TEXT], vh_err *e);

/* ---- row keys (issue 17) -------------------------------------------
 * A row's key (domains.address, the selector of fleet.md 3.1) is an
 * address, a prefix, 'default', a host name, or a one-label wildcard
 * '*.name'. Names are stored as fleet.md 2.6 normalises them (lower
 * case, no trailing dot) and have at least two labels; a wildcard's
 * name part is such a name of at most 251 bytes, so that every name it
 * matches fits 253. The kind follows from the syntax: ':' or only
 * digits and dots is an address; '/' a prefix; a leading '*.' a
 * wildcard; 'default'; anything else a name. */

#define VH_KEY_TEXT 256 /* '*.' + 251, a name of 253, any address text; with the NUL */

enum vh_key_kind {
    VH_KEY_INVALID = 0,
    VH_KEY_ADDRESS = 1,
    VH_KEY_PREFIX = 2,
    VH_KEY_DEFAULT = 3,
    VH_KEY_NAME = 4,
    VH_KEY_WILDCARD = 5,
};

/* A row's key as an operator gives it, of any kind above (an address or
 * prefix as vh_addr_key_canon; 'default' only when allow_default). A
 * name or wildcard is refused, naming the fix, when it is not a host
 * name (U-labels: give the xn-- form; '_'; empty labels), when it has
 * one label, or when every label is digits (IP-shaped). Returns the
 * kind, or -1 (VH_EX_DATAERR) with e filled. */
int vh_key_canon(const char *in, int allow_default, char out[VH_KEY_TEXT], vh_err *e);

/* The kind of a stored key, by its syntax alone (see above); never
 * VH_KEY_INVALID for a non-empty string. */
int vh_key_kind(const char *key);
const char *vh_key_kind_name(int kind);

/* 1 when key (canonical, as stored) is a prefix, with p filled when not
 * NULL; 0 when it is not ('default', an address, anything else). Parses
 * strictly: a stored key not in canonical form answers 0. */
int vh_prefix_parse_key(const char *key, vh_prefix *p);

/* The address text addr (canonical, of family) as 16 bytes (IPv4: the
 * first 4). 0, or -1 when it is not an address of that family. */
int vh_addr_bytes(const char *addr, int family, unsigned char out[16]);

/* The key of the prefix of length len that holds the address a (bytes
 * of family, as vh_addr_bytes): what a prefix row covering it would be
 * called. len must be within the family's range. 0, or -1. */
int vh_prefix_key_of(const unsigned char a[16], int family, unsigned len, char out[VH_ADDR_TEXT]);

/* Zero every bit of the address a (bytes of family, as vh_addr_bytes)
 * past the first len: its network of that length. len may be the
 * family's whole width (nothing changes). */
void vh_addr_mask(unsigned char a[16], int family, unsigned len);

/* 1 when the address a (bytes of family) lies inside p, else 0. */
int vh_prefix_contains(const vh_prefix *p, int family, const unsigned char a[16]);

/* Fill c from a sockaddr pair: used by vh_addr_from_socket and by tests.
 * Refuses families other than AF_INET/AF_INET6 and truncated lengths. */
int vh_addr_from_sockaddrs(const struct sockaddr_storage *l, socklen_t llen, const struct sockaddr_storage *r,
                           socklen_t rlen, vh_conn *c, vh_err *e);

/* Learn both endpoints of the connection on fd: it must be a connected
 * TCP stream socket (not listening, not UDP, not AF_UNIX: G4-G8).
 * Never reads from fd. Returns 0 or -1 with e->code VH_EX_PROTOCOL; -2
 * (e filled the same way) when it is a TCP socket whose peer is gone
 * (getpeername: ENOTCONN, a connection reset before virtuald looked),
 * with c->local filled. */
int vh_addr_from_socket(int fd, vh_conn *c, vh_err *e);

#endif
