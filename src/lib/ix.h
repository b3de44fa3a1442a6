/* ix.h - the lookup index, virtuald's side: a read-only copy of the rows
 * virtuald reads, kept by vhostctl beside the database (DB-index;
 * admin/lib/ixwrite.h writes it), that answers a connection without
 * SQLite. SQLite stays the only source of truth: the index carries the
 * identity of the database state it was made from (ixstamp.h: the
 * WAL-index header, the database file's header and inode, size and
 * times), and virtuald uses it only when the database it finds now has
 * exactly that identity; anything else - no index, another identity, a
 * writer in the middle of an update, a malformed file (ixfmt.h) - sends
 * it to the database as before. doc/design.md "The lookup index" has the
 * argument. */
#ifndef VH_IX_H
#define VH_IX_H

#include "ixfmt.h"
#include "paths.h"
#include "row.h"
#include "select.h"
#include "vherr.h"

#include <stdint.h>
#include <sys/stat.h>

/* What vh_ix_select found. The answered values are the rules of
 * select.h (VH_RULE_NONE .. VH_RULE_ANY_DEFAULT), so that an answer is
 * the rule vh_select would return on the same database state. */
typedef enum vh_ix_answer {
    VH_IX_STALE = -2,  /* the index cannot answer: ask the database; *why says why */
    VH_IX_REFUSE = -1, /* refuse the connection; e filled */
    VH_IX_ANSWERED_NONE = VH_RULE_NONE,
    VH_IX_ANSWERED_EXACT = VH_RULE_EXACT,
    VH_IX_ANSWERED_ANY_SERVICE = VH_RULE_ANY_SERVICE,
    VH_IX_ANSWERED_DEFAULT = VH_RULE_DEFAULT,
    VH_IX_ANSWERED_ANY_DEFAULT = VH_RULE_ANY_DEFAULT,
    VH_IX_ANSWERED_PREFIX = VH_RULE_PREFIX,
    VH_IX_ANSWERED_PREFIX_ANY = VH_RULE_PREFIX_ANY,
    VH_IX_ANSWERED_NAME = VH_RULE_NAME,
    VH_IX_ANSWERED_NAME_ANY = VH_RULE_NAME_ANY,
    VH_IX_ANSWERED_WILDCARD = VH_RULE_WILDCARD,
    VH_IX_ANSWERED_WILDCARD_ANY = VH_RULE_WILDCARD_ANY,
} vh_ix_answer;

/* What vh_ix_current tells about the index right now. */
typedef enum vh_ix_state {
    VH_IX_UNTRUSTED = -1,  /* virtuald would refuse it; e filled */
    VH_IX_NOT_CURRENT = 0, /* virtuald would read the database; *why says why */
    VH_IX_CURRENT = 1,     /* virtuald would answer from the index */
} vh_ix_state;

/* An index open for reading, its header proven to describe the
 * database state that was there when it was opened (vh_ix_begin). */
typedef struct vh_ix_reader {
    int fd;
    vh_ixfmt_hdr h;
} vh_ix_reader;

/* Open the index of dbpath (trust-checked by the caller) and prove its
 * header current. Returns 1 with r open; VH_IX_STALE (r closed, *why
 * says why); VH_IX_REFUSE with e (an untrusted index file, E1). */
int vh_ix_begin(const char *dbpath, vh_ix_reader *r, const char **why, vh_err *e);

/* After a wait (a PROXY header): whether the database is still in the
 * state the index describes. 1 yes; 0 no, with *why. */
int vh_ix_recheck(const char *dbpath, const vh_ix_reader *r, const char **why);

/* The candidates of vh_select_probes (select.h) from the open index,
 * with the prefix lengths its header keeps; then the header's seq read
 * again. As vh_ix_select; *plen gets a prefix rule's length. */
vh_ix_answer vh_ix_lookup(const vh_ix_reader *r, const char *service, const char *address, const char *name, int flags,
                          vh_row *row, unsigned *plen, const char **why, vh_err *e);

/* The PROXY trust of peer (canonical address) for service from the
 * header alone (no system call): 1 answered, t filled; 0 the header does
 * not hold every trusted source (more than VH_IXFMT_TRUST_MAX): ask the
 * database. */
int vh_ix_trust(const vh_ix_reader *r, const char *service, const char *peer, vh_trust *t);

void vh_ix_end(vh_ix_reader *r);

/* virtuald: the four candidates of PRODUCT §3 from the index of dbpath
 * (which the caller has trust-checked). Returns the deciding rule as an
 * answer (row filled when > VH_IX_ANSWERED_NONE); VH_IX_STALE when the
 * index cannot answer; VH_IX_REFUSE with e filled when it must refuse (an
 * index file that is not root's, or writable by others, or not a regular
 * file: THREATS E1; or a row the checks of row.h refuse). */
vh_ix_answer vh_ix_select(const char *dbpath, const char *service, const char *address, vh_row *row, const char **why,
                          vh_err *e);

/* For vhostctl check and tests: whether virtuald would answer from the
 * index of dbpath right now. */
vh_ix_state vh_ix_current(const char *dbpath, const char **why, vh_err *e);

/* For the index writer (admin/lib/ixwrite.c), which shares the reader's
 * checks. Open the index of dbpath (oflags: O_RDONLY or O_RDWR), never
 * through a symbolic link. The directory is the database's, already
 * walked and trusted; the file itself must be a regular file, root's and
 * written by nobody else (E1). Returns fd; -1 when it cannot be opened
 * (errno says why, ENOENT: there is none); -2 when it is there but
 * untrusted, with msg. */
int vh_ix_open(const char *dbpath, int oflags, struct stat *st, char *msg, size_t n);

/* Find service/address in the index open on fd with header h: 1 found
 * (c points into buf, VH_IXFMT_REC_MAX bytes; *bucket_at, when not NULL,
 * gets the bucket's index), 0 absent, -1 the file is not as it should
 * be. */
int vh_ix_find(int fd, const vh_ixfmt_hdr *h, const char *svc, const char *adr, unsigned char *buf, vh_ixfmt_col *c,
               uint64_t *bucket_at);

#endif
