/* manifest.h - what each jail was provisioned with (issue 14 point 4;
 * sql/006, tables jail_provisions and jail_files): the requests of every
 * `vhostctl provision` run (programs, packages, files, PAM services,
 * gconv, profiles) and every regular file it copied from the host with
 * the SHA-256 of the bytes written (provision.h vh_prov_copied).
 *
 * `vhostctl check` compares each recorded file three ways - as recorded,
 * the jail's copy now, the host's file now (vh_manifest_judge) - and
 * `vhostctl provision --refresh` redoes a jail's requests and reports
 * the difference between the manifest before and after
 * (vh_manifest_diff). doc/jails.md "The manifest". */
#ifndef VH_MANIFEST_H
#define VH_MANIFEST_H

#include "sha256.h"
#include "vherr.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

typedef struct vh_manifest_file {
    char *path;   /* inside the jail, absolute */
    char *host;   /* the host file copied */
    char *kind;   /* "program", "interpreter", "library", "file" */
    char *source; /* the request that brought it ("program /usr/bin/cat", "package git", ...) */
    char sha[VH_SHA256_HEX];
    unsigned mode;
    uint64_t size;
} vh_manifest_file;

typedef struct vh_manifest_req {
    char what[16]; /* "program", "package", "file", "pam", "gconv", "profile" */
    char *name;    /* "" for gconv */
} vh_manifest_req;

typedef struct vh_manifest {
    vh_manifest_file *f;
    size_t n, cap;
    vh_manifest_req *r;
    size_t nr, capr;
    int sorted; /* f is sorted by path (vh_manifest_sort) */
} vh_manifest;

/* Add a file; one with the same path is replaced. 0, or -1 (out of
 * memory). */
int vh_manifest_add_file(vh_manifest *m, const char *path, const char *host, const char *kind, const char *source,
                         const char *sha, unsigned mode, uint64_t size);
/* Add a request once (what, name). 0, or -1 (out of memory). */
int vh_manifest_add_req(vh_manifest *m, const char *what, const char *name);
void vh_manifest_sort(vh_manifest *m);
/* The file at path inside the jail, or NULL (sorts m first). */
const vh_manifest_file *vh_manifest_find(vh_manifest *m, const char *path);
void vh_manifest_free(vh_manifest *m);

/* ---- the database (sql/006) ---- */

/* jail's manifest into m (empty first): 1 when the jail has one (any
 * request or file), 0 when not, -1 with e. In the caller's transaction. */
int vh_manifest_load(sqlite3 *db, const char *jail, vh_manifest *m, vh_err *e);

/* Write m's requests and files for jail in the caller's write
 * transaction, merged with what is there: rows of the same key are
 * updated, others kept (another service's entries survive). With
 * drop not NULL, those ndrop files are taken off the jail's manifest
 * (--refresh: no request needs them any more). 0, or -1 with e. */
int vh_manifest_store(sqlite3 *db, const char *jail, const vh_manifest *m, const char *const *drop, size_t ndrop,
                      vh_err *e);

/* Every jail with a manifest, sorted (malloc'd strings and array: free
 * both). Their number, or -1 with e. */
long vh_manifest_jails(sqlite3 *db, char ***jails, vh_err *e);

/* ---- comparing ---- */

enum vh_manifest_change {
    VH_MF_SAME,    /* in both, same checksum */
    VH_MF_CHANGED, /* in both, another checksum */
    VH_MF_ADDED,   /* only in the new one */
    VH_MF_DROPPED, /* only in the old one */
};

/* Walk old and new (both sorted here) by path: cb once per path with
 * the change and the entries (NULL where it is not). */
typedef void (*vh_manifest_diff_cb)(void *ctx, enum vh_manifest_change c, const vh_manifest_file *old,
                                    const vh_manifest_file *now);
void vh_manifest_diff(vh_manifest *old, vh_manifest *now, vh_manifest_diff_cb cb, void *ctx);

/* A recorded file judged against the jail's copy and the host's file. */
enum vh_manifest_state {
    VH_MS_OK,           /* the jail's copy is the host's file */
    VH_MS_JAIL_MISSING, /* no regular file at the path in the jail */
    VH_MS_STALE,        /* the jail has what was copied, the host has another file now (an update) */
    VH_MS_JAIL_CHANGED, /* the host has what was copied, the jail's copy was changed since */
    VH_MS_BOTH_CHANGED, /* neither is what was copied, and they differ */
    VH_MS_HOST_GONE,    /* the host file is gone (or no longer a regular file) */
};

/* The state from the three checksums: recorded; the jail's copy (NULL:
 * none, or not a regular file); the host's file (NULL: gone). */
enum vh_manifest_state vh_manifest_judge(const char *recorded, const char *jail, const char *host);

/* The first 12 hex digits: how lines show a checksum. */
void vh_manifest_short(const char *sha, char out[13]);

/* Host files' checksums, each computed once per vhostctl run (a host
 * library copied into a thousand jails is read once). */
typedef struct vh_manifest_cache vh_manifest_cache;
vh_manifest_cache *vh_manifest_cache_new(void);
void vh_manifest_cache_free(vh_manifest_cache *c);

/* The host file's checksum into sha and its size into *size (host
 * symlinks followed, as provision copies): 1, 0 when it is gone or no
 * regular file, -1 with errno when it cannot be read. Cached. */
int vh_manifest_host_sha(vh_manifest_cache *c, const char *host, char sha[VH_SHA256_HEX], uint64_t *size);

/* The jail copy's checksum: path below rootfd, without following any
 * symlink (rootfd.h), looked at before it is opened (a device or FIFO is
 * never opened). A regular file larger than max (the larger of the
 * recorded and the host's size) is not read: sha is "size N", which
 * matches no checksum (a tenant's huge file costs check nothing). 1, 0
 * when there is no regular file there, -1 with errno when it cannot be
 * read. */
int vh_manifest_jail_sha(int rootfd, const char *path, uint64_t max, char sha[VH_SHA256_HEX]);

#endif
