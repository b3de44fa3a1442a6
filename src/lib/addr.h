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

/* Fill c from a sockaddr pair: used by vh_addr_from_socket and by tests.
 * Refuses families other than AF_INET/AF_INET6 and truncated lengths. */
int vh_addr_from_sockaddrs(const struct sockaddr_storage *l, socklen_t llen, const struct sockaddr_storage *r,
                           socklen_t rlen, vh_conn *c, vh_err *e);

/* Learn both endpoints of the connection on fd: it must be a connected
 * TCP stream socket (not listening, not UDP, not AF_UNIX: G4-G8).
 * Never reads from fd. Returns 0 or -1 with e->code VH_EX_PROTOCOL. */
int vh_addr_from_socket(int fd, vh_conn *c, vh_err *e);

#endif
