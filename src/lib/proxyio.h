/* proxyio.h - reading exactly a PROXY header off a connection (issue 15,
 * fleet.md 1.2): peek, parse (proxy.h), wait for the rest with
 * SO_RCVLOWAT and poll under a deadline, then read exactly the header's
 * bytes and give the socket back as it was. Never a byte of the
 * service's is consumed, and nothing is written. */
#ifndef VH_PROXYIO_H
#define VH_PROXYIO_H

#include "proxy.h"
#include "tls.h"
#include "vherr.h"

/* virtuald's default wait for a trusted balancer's header (fleet.md 1.2:
 * the spec says at least 3 s; ProFTPD and Dovecot 3 s). */
#define VH_PROXYIO_TIMEOUT_MS 3000

typedef enum vh_proxyio_outcome {
    VH_PROXYIO_REFUSED = -1, /* e filled: 76 malformed, 75 timeout, 71 socket state */
    VH_PROXYIO_GONE = 0,     /* EOF or reset before the first byte: a check, or a client that left */
    VH_PROXYIO_HEADER = 1,   /* r holds a valid header, consumed from fd */
} vh_proxyio_outcome;

/* From a trusted peer (peer: its text, for messages), whose header is
 * mandatory: wait at most timeout_ms for a complete header, consume
 * exactly it and fill r. versions (bit 0 v1, bit 1 v2) are the ones the
 * peer may send. A second header right behind the first, if already
 * queued, is refused. */
vh_proxyio_outcome vh_proxyio_read(int fd, const char *peer, int versions, int timeout_ms, vh_proxy_result *r,
                                   vh_err *e);

/* From an untrusted peer: one non-blocking peek, no wait. 1 when the
 * bytes already queued start as only a PROXY header does (then the
 * connection is refused: its header must never reach the service as
 * data, nor select a row), 0 otherwise. */
int vh_proxyio_untrusted_peek(int fd);

/* Issue 17 (fleet.md 2.2-2.7): the TLS ClientHello at the head of the
 * connection (after any PROXY header), peeked and never consumed. */
typedef enum vh_tlsio_outcome {
    VH_TLSIO_REFUSED = -1, /* e filled: 76 malformed or cut, 75 timeout, 71 socket state */
    VH_TLSIO_GONE = 0,     /* EOF or reset before the first byte */
    VH_TLSIO_HELLO = 1,    /* r holds a complete, valid ClientHello (r->name may be empty) */
    VH_TLSIO_NOT_TLS = 2,  /* the first byte is not a handshake record: no name */
} vh_tlsio_outcome;

/* Wait at most timeout_ms for the first byte, and then for every record
 * of the ClientHello (SO_RCVLOWAT and poll, as vh_proxyio_read), parse
 * it (tls.h), and give the socket back as it was: SO_RCVLOWAT 1 and
 * every byte still queued for the service. peer names the client in
 * messages. */
vh_tlsio_outcome vh_tlsio_peek(int fd, const char *peer, int timeout_ms, vh_tls_result *r, vh_err *e);

#endif
