/* finding.h - one result of a check (jail or database), as vhostctl
 * check prints it: which domain, how bad, which path, what is wrong and
 * how to fix it. Checks report every finding through a callback and
 * never stop at the first (jailkit's bitmask idea, grown up). */
#ifndef VH_FINDING_H
#define VH_FINDING_H

enum vh_severity {
    VH_SEV_WARNING = 1, /* vhostctl check exits 1 when only these */
    VH_SEV_ERROR = 2,   /* exits 2; vhostctl add refuses */
};

typedef struct vh_finding {
    const char *domain; /* "SERVICE/ADDRESS", "database", or a ROOT */
    enum vh_severity severity;
    const char *kind;    /* a stable short name, listed in doc/jails.md */
    const char *path;    /* the object on the host */
    const char *problem; /* what is wrong, one line, printable */
    const char *fix;     /* what to do about it, one line, printable */
} vh_finding;

typedef void (*vh_finding_cb)(void *ctx, const vh_finding *f);

const char *vh_finding_severity_name(enum vh_severity s);

/* The library's messages read "fault - remedy": cut msg at the last
 * " - " and return the remedy, or NULL when there is none. */
char *vh_finding_split_remedy(char *msg);

#endif
