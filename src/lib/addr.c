#include "addr.h"

#include "exitcodes.h"
#include "hostname.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int canon_v4(const struct in_addr *a, const char *shown, char out[VH_ADDR_TEXT], vh_err *e)
{
    uint32_t h = ntohl(a->s_addr);
    if (h == 0)
        return vh_fail(e, VH_EX_DATAERR,
                       "address '%s' is the unspecified address, which is never dialled - give one local address",
                       shown);
    if (h == 0xffffffffu)
        return vh_fail(e, VH_EX_DATAERR, "address '%s' is the broadcast address - give one local unicast address",
                       shown);
    if ((h >> 28) == 0xe)
        return vh_fail(e, VH_EX_DATAERR, "address '%s' is multicast - give one local unicast address", shown);
    if (!inet_ntop(AF_INET, a, out, VH_ADDR_TEXT))
        return vh_fail(e, VH_EX_SOFTWARE, "inet_ntop: %s", strerror(errno));
    return 0;
}

static int canon_v6(const struct in6_addr *a, const char *shown, char out[VH_ADDR_TEXT], vh_err *e)
{
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        struct in_addr v4;
        memcpy(&v4, &a->s6_addr[12], 4);
        return canon_v4(&v4, shown, out, e);
    }
    if (IN6_IS_ADDR_UNSPECIFIED(a))
        return vh_fail(e, VH_EX_DATAERR,
                       "address '%s' is the unspecified address, which is never dialled - give one local address",
                       shown);
    if (IN6_IS_ADDR_MULTICAST(a))
        return vh_fail(e, VH_EX_DATAERR, "address '%s' is multicast - give one local unicast address", shown);
    if (IN6_IS_ADDR_LINKLOCAL(a))
        return vh_fail(e, VH_EX_DATAERR,
                       "address '%s' is IPv6 link-local, which is ambiguous without an interface - use a global or "
                       "unique-local address",
                       shown);
    if (!inet_ntop(AF_INET6, a, out, VH_ADDR_TEXT))
        return vh_fail(e, VH_EX_SOFTWARE, "inet_ntop: %s", strerror(errno));
    return 0;
}

int vh_addr_canon(const char *in, int allow_default, char out[VH_ADDR_TEXT], vh_err *e)
{
    char shown[4 * VH_ADDR_TEXT + 8];
    vh_printable(in, shown, sizeof shown);
    if (allow_default && strcmp(in, VH_ADDR_DEFAULT) == 0) {
        strcpy(out, VH_ADDR_DEFAULT);
        return 0;
    }
    size_t len = strnlen(in, VH_ADDR_TEXT);
    if (len == 0)
        return vh_fail(e, VH_EX_DATAERR, "empty address - give an IPv4 or IPv6 address%s",
                       allow_default ? " or 'default'" : "");
    if (len >= VH_ADDR_TEXT)
        return vh_fail(e, VH_EX_DATAERR, "address '%.40s...' is too long to be an IP address", shown);
    if (strchr(in, '%'))
        return vh_fail(
            e, VH_EX_DATAERR,
            "address '%s' has a zone (%%): zoned link-local addresses are not supported - use a global address", shown);
    if (strchr(in, '/'))
        return vh_fail(e, VH_EX_DATAERR, "address '%s' is a prefix: one row names one address - give it without '/'",
                       shown);
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, in, &a4) == 1)
        return canon_v4(&a4, shown, out, e);
    if (inet_pton(AF_INET6, in, &a6) == 1)
        return canon_v6(&a6, shown, out, e);
    return vh_fail(e, VH_EX_DATAERR,
                   "'%s' is not an IP address - write IPv4 as four decimal numbers without leading zeros (192.0.2.1) "
                   "or IPv6 as in 2001:db8::1%s",
                   shown, allow_default ? ", or 'default'" : "");
}

static int endpoint_from(const struct sockaddr_storage *ss, socklen_t len, vh_endpoint *ep, const char *which,
                         vh_err *e)
{
    memset(ep, 0, sizeof *ep);
    if (len < sizeof(sa_family_t))
        return vh_fail(e, VH_EX_PROTOCOL, "%s address of fd 0 is truncated (%u bytes)", which, (unsigned)len);
    if (ss->ss_family == AF_INET) {
        if (len < sizeof(struct sockaddr_in))
            return vh_fail(e, VH_EX_PROTOCOL, "%s IPv4 address of fd 0 is truncated (%u bytes)", which, (unsigned)len);
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        ep->family = AF_INET;
        ep->port = ntohs(s4->sin_port);
        if (!inet_ntop(AF_INET, &s4->sin_addr, ep->text, sizeof ep->text))
            return vh_fail(e, VH_EX_SOFTWARE, "inet_ntop: %s", strerror(errno));
        return 0;
    }
    if (ss->ss_family == AF_INET6) {
        if (len < sizeof(struct sockaddr_in6))
            return vh_fail(e, VH_EX_PROTOCOL, "%s IPv6 address of fd 0 is truncated (%u bytes)", which, (unsigned)len);
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        ep->port = ntohs(s6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            ep->family = AF_INET; /* G1: a mapped address is the IPv4 address */
            if (!inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ep->text, sizeof ep->text))
                return vh_fail(e, VH_EX_SOFTWARE, "inet_ntop: %s", strerror(errno));
            return 0;
        }
        ep->family = AF_INET6;
        if (!inet_ntop(AF_INET6, &s6->sin6_addr, ep->text, sizeof ep->text))
            return vh_fail(e, VH_EX_SOFTWARE, "inet_ntop: %s", strerror(errno));
        return 0;
    }
    return vh_fail(e, VH_EX_PROTOCOL, "%s address of fd 0 is of family %d, not IPv4 or IPv6", which,
                   (int)ss->ss_family);
}

int vh_addr_from_sockaddrs(const struct sockaddr_storage *l, socklen_t llen, const struct sockaddr_storage *r,
                           socklen_t rlen, vh_conn *c, vh_err *e)
{
    if (endpoint_from(l, llen, &c->local, "local", e) < 0)
        return -1;
    if (endpoint_from(r, rlen, &c->remote, "remote", e) < 0)
        return -1;
    if (c->local.family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)l;
        if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) || s6->sin6_scope_id != 0)
            return vh_fail(e, VH_EX_PROTOCOL,
                           "local address %s is IPv6 link-local (scope %u): not supported as a domain key",
                           c->local.text, (unsigned)s6->sin6_scope_id);
    }
    return 0;
}

int vh_addr_from_socket(int fd, vh_conn *c, vh_err *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return vh_fail(e, VH_EX_PROTOCOL,
                       "fd %d is not open (%s): start virtuald from a super-server that passes the connection on fd 0",
                       fd, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return vh_fail(e, VH_EX_PROTOCOL,
                       "fd %d is not a socket: start virtuald from a super-server that passes the connection on fd 0 "
                       "(inetd, tcpserver; systemd: Accept=yes with StandardInput=socket)",
                       fd);
    int type = 0, listening = 0, proto = 0;
    socklen_t optlen = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &optlen) < 0)
        return vh_fail(e, VH_EX_PROTOCOL, "getsockopt(SO_TYPE) on fd %d: %s", fd, strerror(errno));
    if (type != SOCK_STREAM)
        return vh_fail(e, VH_EX_PROTOCOL,
                       "fd %d is a %s socket, not a TCP stream: virtuald serves 'stream tcp nowait' services only", fd,
                       type == SOCK_DGRAM ? "datagram" : "non-stream");
    optlen = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) < 0)
        return vh_fail(e, VH_EX_PROTOCOL, "getsockopt(SO_ACCEPTCONN) on fd %d: %s", fd, strerror(errno));
    if (listening)
        return vh_fail(
            e, VH_EX_PROTOCOL,
            "fd %d is a listening socket: use 'nowait' (inetd) or Accept=yes (systemd) so virtuald gets one connection",
            fd);
    optlen = sizeof proto;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &optlen) < 0)
        return vh_fail(e, VH_EX_PROTOCOL, "getsockopt(SO_PROTOCOL) on fd %d: %s", fd, strerror(errno));

    struct sockaddr_storage l, r;
    socklen_t llen = sizeof l, rlen = sizeof r;
    memset(&l, 0, sizeof l);
    memset(&r, 0, sizeof r);
    if (getsockname(fd, (struct sockaddr *)&l, &llen) < 0)
        return vh_fail(e, VH_EX_PROTOCOL, "getsockname on fd %d: %s", fd, strerror(errno));
    if (l.ss_family != AF_INET && l.ss_family != AF_INET6)
        return vh_fail(e, VH_EX_PROTOCOL, "fd %d is a socket of family %d, not IPv4 or IPv6", fd, (int)l.ss_family);
    if (proto != IPPROTO_TCP)
        return vh_fail(e, VH_EX_PROTOCOL, "fd %d is not a TCP socket (protocol %d)", fd, proto);
    if (getpeername(fd, (struct sockaddr *)&r, &rlen) < 0) {
        int err = errno;
        vh_fail(e, VH_EX_PROTOCOL, "fd %d is not connected (getpeername: %s)", fd, strerror(err));
        /* the local end is known: a connection reset before we looked
         * (a balancer's L4 health check, issue 15) */
        return err == ENOTCONN && endpoint_from(&l, llen, &c->local, "local", &(vh_err){0, ""}) == 0 ? -2 : -1;
    }
    return vh_addr_from_sockaddrs(&l, llen, &r, rlen, c, e);
}

/* ---- prefixes ---------------------------------------------------------- */

void vh_addr_mask(unsigned char a[16], int family, unsigned len)
{
    unsigned nbytes = family == AF_INET ? 4 : 16;
    for (unsigned i = 0; i < nbytes; i++) {
        unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
        a[i] &= (unsigned char)(keep ? 0xffu << (8 - keep) : 0);
    }
}

int vh_addr_bytes(const char *addr, int family, unsigned char out[16])
{
    memset(out, 0, 16);
    if (family == AF_INET)
        return inet_pton(AF_INET, addr, out) == 1 ? 0 : -1;
    if (family == AF_INET6)
        return inet_pton(AF_INET6, addr, out) == 1 ? 0 : -1;
    return -1;
}

int vh_prefix_key_of(const unsigned char a[16], int family, unsigned len, char out[VH_ADDR_TEXT])
{
    unsigned max = family == AF_INET ? VH_PREFIX_V4_MAX : family == AF_INET6 ? VH_PREFIX_V6_MAX : 0;
    if (len < 1 || len > max)
        return -1;
    unsigned char b[16];
    memcpy(b, a, 16);
    vh_addr_mask(b, family, len);
    if (!inet_ntop(family, b, out, VH_ADDR_TEXT))
        return -1;
    size_t n = strlen(out);
    int w = snprintf(out + n, VH_ADDR_TEXT - n, "/%u", len);
    return w > 0 && (size_t)w < VH_ADDR_TEXT - n ? 0 : -1;
}

int vh_prefix_contains(const vh_prefix *p, int family, const unsigned char a[16])
{
    if (p->family != family)
        return 0;
    unsigned char b[16];
    memcpy(b, a, 16);
    vh_addr_mask(b, family, p->len);
    return memcmp(b, p->net, family == AF_INET ? 4 : 16) == 0;
}

/* Split "NET/LEN": the network text into net (NUL-terminated) and the
 * length, strictly decimal without sign or leading zero. 0, or -1. */
static int split_prefix(const char *in, char net[VH_ADDR_TEXT], unsigned *len)
{
    const char *slash = strchr(in, '/');
    if (!slash || slash == in || (size_t)(slash - in) >= VH_ADDR_TEXT || strchr(slash + 1, '/'))
        return -1;
    memcpy(net, in, (size_t)(slash - in));
    net[slash - in] = '\0';
    const char *d = slash + 1;
    if (!*d || (d[0] == '0' && d[1]) || strlen(d) > 3)
        return -1;
    unsigned v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        v = v * 10 + (unsigned)(*d - '0');
    }
    *len = v;
    return 0;
}

int vh_prefix_parse_key(const char *key, vh_prefix *p)
{
    char net[VH_ADDR_TEXT], canon[VH_ADDR_TEXT];
    unsigned len;
    vh_prefix q;
    memset(&q, 0, sizeof q);
    if (split_prefix(key, net, &len) < 0)
        return 0;
    q.family = strchr(net, ':') ? AF_INET6 : AF_INET;
    if (vh_addr_bytes(net, q.family, q.net) < 0 || vh_prefix_key_of(q.net, q.family, len, canon) < 0 ||
        strcmp(canon, key) != 0)
        return 0;
    q.len = len;
    if (p)
        *p = q;
    return 1;
}

int vh_prefix_canon(const char *in, char out[VH_ADDR_TEXT], vh_prefix *p, vh_err *e)
{
    char shown[4 * VH_ADDR_TEXT + 8], net[VH_ADDR_TEXT];
    vh_printable(in, shown, sizeof shown);
    unsigned len = 0;
    if (strnlen(in, VH_ADDR_TEXT) >= VH_ADDR_TEXT)
        return vh_fail(e, VH_EX_DATAERR, "prefix '%.40s...' is too long", shown);
    if (strchr(in, '%'))
        return vh_fail(e, VH_EX_DATAERR, "prefix '%s' has a zone (%%) - give a global or unique-local prefix", shown);
    if (split_prefix(in, net, &len) < 0)
        return vh_fail(e, VH_EX_DATAERR,
                       "'%s' is not a prefix - write NETWORK/LENGTH with a decimal length without leading zeros, "
                       "e.g. 192.0.2.0/24 or 2001:db8:1::/48",
                       shown);
    vh_prefix q;
    memset(&q, 0, sizeof q);
    struct in6_addr a6;
    unsigned bits;
    if (inet_pton(AF_INET, net, q.net) == 1) {
        q.family = AF_INET;
        bits = 32;
    } else if (inet_pton(AF_INET6, net, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            char v4[INET_ADDRSTRLEN] = "";
            inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof v4);
            return vh_fail(e, VH_EX_DATAERR,
                           "prefix '%s' is IPv4-mapped: connections to mapped addresses are selected as IPv4 - give "
                           "the IPv4 prefix, e.g. %s/%u",
                           shown, v4, len > 96 ? len - 96 : 32);
        }
        q.family = AF_INET6;
        memcpy(q.net, &a6, 16);
        bits = 128;
    } else {
        return vh_fail(e, VH_EX_DATAERR,
                       "'%s' is not a prefix: '%s' is not an IP address (IPv4 as four decimal numbers without "
                       "leading zeros, IPv6 as in 2001:db8::)",
                       shown, net);
    }
    if (len == 0)
        return vh_fail(e, VH_EX_DATAERR, "prefix '%s' covers every address - use 'default' for that", shown);
    if (len > bits)
        return vh_fail(e, VH_EX_DATAERR, "prefix '%s' is longer than an IPv%d address (%u bits)", shown,
                       bits == 32 ? 4 : 6, bits);
    if (len == bits)
        return vh_fail(e, VH_EX_DATAERR, "prefix '%s' is one address - give it as %s, without '/%u'", shown, net, len);
    char canon[VH_ADDR_TEXT];
    if (vh_prefix_key_of(q.net, q.family, len, canon) < 0)
        return vh_fail(e, VH_EX_SOFTWARE, "cannot format prefix '%s'", shown);
    unsigned char masked[16];
    memcpy(masked, q.net, 16);
    vh_addr_mask(masked, q.family, len);
    if (memcmp(masked, q.net, bits / 8) != 0)
        return vh_fail(e, VH_EX_DATAERR,
                       "prefix '%s' has host bits set - the /%u network holding %s is %s: give that, or the address "
                       "alone for one address",
                       shown, len, net, canon);
    if (q.family == AF_INET && len >= 4 && q.net[0] >= 224 && q.net[0] <= 239)
        return vh_fail(e, VH_EX_DATAERR, "prefix '%s' is multicast, which is never dialled - give a unicast prefix",
                       shown);
    if (q.family == AF_INET6 && len >= 8 && q.net[0] == 0xff)
        return vh_fail(e, VH_EX_DATAERR, "prefix '%s' is multicast, which is never dialled - give a unicast prefix",
                       shown);
    if (q.family == AF_INET6 && len >= 10 && q.net[0] == 0xfe && (q.net[1] & 0xc0) == 0x80)
        return vh_fail(e, VH_EX_DATAERR,
                       "prefix '%s' is IPv6 link-local, which is ambiguous without an interface - give a global or "
                       "unique-local prefix",
                       shown);
    q.len = len;
    strcpy(out, canon);
    if (p)
        *p = q;
    return 0;
}

int vh_addr_key_canon(const char *in, int allow_default, char out[VH_ADDR_TEXT], vh_err *e)
{
    if (strchr(in, '/'))
        return vh_prefix_canon(in, out, NULL, e);
    return vh_addr_canon(in, allow_default, out, e);
}

int vh_key_kind(const char *key)
{
    if (!key[0])
        return VH_KEY_INVALID;
    if (!strcmp(key, VH_ADDR_DEFAULT))
        return VH_KEY_DEFAULT;
    if (key[0] == '*' && key[1] == '.')
        return VH_KEY_WILDCARD;
    if (strchr(key, '/'))
        return VH_KEY_PREFIX;
    if (strchr(key, ':') || strspn(key, "0123456789.") == strlen(key))
        return VH_KEY_ADDRESS;
    return VH_KEY_NAME;
}

const char *vh_key_kind_name(int kind)
{
    switch (kind) {
    case VH_KEY_ADDRESS: return "address";
    case VH_KEY_PREFIX: return "prefix";
    case VH_KEY_DEFAULT: return "default";
    case VH_KEY_NAME: return "name";
    case VH_KEY_WILDCARD: return "wildcard";
    default: return "invalid";
    }
}

/* A name key (or a wildcard's name part, when wild): normalised by
 * fleet.md 2.6, at least two labels, not IP-shaped. */
static int name_canon(const char *in, const char *name, int wild, char *out, vh_err *e)
{
    size_t n = strlen(name);
    vh_hostname_error he = vh_hostname_norm((const unsigned char *)name, n, out);
    if (he != VH_HOSTNAME_OK) {
        if (strchr(name, '*'))
            return vh_fail(e, VH_EX_DATAERR,
                           "key '%s': '*' may only be the whole first label of a wildcard, as in *.example.org", in);
        return vh_fail(e, VH_EX_DATAERR,
                       "key '%s' is a %s - give an address, a prefix NET/LEN, 'default', a host "
                       "name (www.example.org) or a wildcard (*.example.org)",
                       in, vh_hostname_error_text(he));
    }
    if (!out[0])
        return vh_fail(e, VH_EX_DATAERR,
                       "key '%s' has only digits in its labels, like an IP address but not one - give the address in "
                       "dotted-quad form or a host name",
                       in);
    if (!strchr(out, '.'))
        return vh_fail(e, VH_EX_DATAERR,
                       wild ? "key '%s': a wildcard needs a name of at least two labels after '*.' (*.example.org, "
                              "never *.org)"
                            : "key '%s' is a host name of one label - give the full name (www.example.org)",
                       in);
    if (wild && strlen(out) > VH_HOSTNAME_MAX - 2)
        return vh_fail(e, VH_EX_DATAERR, "key '%s': the name after '*.' is longer than %d bytes, so no name fits", in,
                       VH_HOSTNAME_MAX - 2);
    return 0;
}

int vh_key_canon(const char *in, int allow_default, char out[VH_KEY_TEXT], vh_err *e)
{
    char buf[VH_HOSTNAME_MAX + 1];
    int kind = vh_key_kind(in);
    switch (kind) {
    case VH_KEY_ADDRESS:
    case VH_KEY_PREFIX:
    case VH_KEY_DEFAULT:
        /* out has room for any address text */
        return vh_addr_key_canon(in, allow_default, out, e) < 0 ? -1 : kind;
    case VH_KEY_WILDCARD:
        if (name_canon(in, in + 2, 1, buf, e) < 0)
            return -1;
        snprintf(out, VH_KEY_TEXT, "*.%s", buf);
        return kind;
    case VH_KEY_NAME:
        /* a name with a trailing dot or capitals is spelt as stored */
        if (name_canon(in, in, 0, buf, e) < 0)
            return -1;
        snprintf(out, VH_KEY_TEXT, "%s", buf);
        return kind;
    default: return vh_fail(e, VH_EX_DATAERR, "an empty key - give an address, a prefix, 'default' or a name");
    }
}
