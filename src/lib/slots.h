/* slots.h - per-domain connection limits without a daemon (issue 16,
 * fleet.md 4.2; THREATS M1-M4).
 *
 * A slot is a kernel byte-range lock (F_OFD_SETLK, write lock, one byte)
 * on the domain's running file (running.h), which every connection's
 * outer virtuald already holds open until its process tree is gone. The
 * outer virtuald is the service's waiting parent: it holds the locks, the
 * service never has the descriptor (close-on-exec), and the kernel frees
 * them when the last descriptor of the open file goes - however the
 * holder ends (M1). PID 1 of the service's namespace dies with the outer
 * virtuald (PR_SET_PDEATHSIG), and every process of the namespace with
 * PID 1, so a slot freed means the domain's service is gone.
 *
 * Bytes [0, max_instances): one per instance, tried from pid mod N round
 * robin. Bytes from VH_LIMITS_SRC_BASE on: VH_LIMITS_BUCKETS buckets of
 * max_per_source bytes; a source's bucket is SipHash-2-4 under a per-boot
 * secret key (M2) of its address cut to the row's source prefix (/32 and
 * /64 by default: one IPv6 client cannot rotate through its /64). A
 * collision can only refuse too much, never admit too much. The file is
 * never written: the locks live in the kernel. */
#ifndef VH_SLOTS_H
#define VH_SLOTS_H

#include "addr.h"
#include "vherr.h"

#include <stddef.h>
#include <stdint.h>

#define VH_LIMITS_BUCKETS 4096
#define VH_LIMITS_INSTANCES_MAX 4096               /* sql/005 CHECK */
#define VH_LIMITS_PER_SOURCE_MAX 64                /* sql/005 CHECK */
#define VH_LIMITS_SRC_BASE VH_LIMITS_INSTANCES_MAX /* source slots start past every instance slot */
#define VH_LIMITS_KEY_LEN 16

typedef struct vh_limit {
    uint32_t max_instances;  /* 0: no limit */
    uint32_t max_per_source; /* 0: no limit */
    unsigned prefix4;        /* sources grouped by this IPv4 prefix length (8..32) */
    unsigned prefix6;        /* and this IPv6 one (16..128) */
} vh_limit;

/* SipHash-2-4 of data under key (Aumasson and Bernstein, 2012). */
uint64_t vh_siphash24(const unsigned char key[VH_LIMITS_KEY_LEN], const void *data, size_t n);

/* The per-boot key, from path (created, 0600 root, from getrandom, when
 * missing: atomically, so that concurrent first connections agree). The
 * file must be root's, a regular file, mode 0600. 0, or -1 with e. */
int vh_limits_key(const char *path, unsigned char key[VH_LIMITS_KEY_LEN], vh_err *e);

/* The bucket of source (canonical address of family) under key, grouped
 * by l's prefix. */
uint32_t vh_limits_bucket(const unsigned char key[VH_LIMITS_KEY_LEN], const vh_limit *l, const vh_endpoint *source);

/* Take one instance slot (when l->max_instances) and one slot of the
 * source's bucket (when l->max_per_source) on fd (the running file,
 * open read-write); what (e.g. "http/127.0.0.2") names the domain in a
 * refusal. 0 with the slots held until fd's open file is closed; -1
 * with e: VH_EX_TEMPFAIL at a limit (nothing held), VH_EX_OSERR on an
 * error. */
int vh_limits_take(int fd, const vh_limit *l, const unsigned char key[VH_LIMITS_KEY_LEN], const vh_endpoint *source,
                   const char *what, vh_err *e);

/* For vhostctl list --live: how many instance slots and source slots are
 * held on fd now (F_OFD_GETLK; taken by other open files). 0 or -1. */
int vh_limits_held(int fd, const vh_limit *l, uint32_t *instances, uint32_t *sources, vh_err *e);

#endif
