/* profile.h - provision profiles: what a service needs in a jail, as
 * data an operator reads and extends (issue 14 point 3).
 *
 * A profile is a text file NAME.profile, one directive per line (the
 * format is documented in doc/jails.md, "Profiles"):
 *
 *   # comment                      description TEXT
 *   program PATH                   package NAME
 *   file PATH                      pam SERVICE
 *   gconv                          user NAME [home=PATH] [shell=PATH]
 *   group NAME                     dir PATH MODE OWNER GROUP
 *   skel PATH MODE                 | a line of the file skel writes
 *   inetd LINE                     syslog PATH
 *   note TEXT
 *
 * The parser is pure (no I/O) and strict: an unknown directive, a path
 * that is not clean and absolute, a mode out of range, a "|" line with
 * no skel before it is an error naming the profile and the line. */
#ifndef VH_PROFILE_H
#define VH_PROFILE_H

#include "vherr.h"

#include <stddef.h>

#define VH_PROFILE_MAX_BYTES (256 * 1024) /* a larger profile file is refused */
#define VH_PROFILE_MAX_ITEMS 256          /* per list */

typedef struct vh_profile_user {
    char *name, *home, *shell; /* home, shell: NULL when not given */
} vh_profile_user;

typedef struct vh_profile_dir {
    char *path;
    unsigned mode;       /* at most 01777 */
    char *owner, *group; /* "root", a host name, or "@user" / "@group": the --user's */
} vh_profile_dir;

typedef struct vh_profile_skel {
    char *path;
    unsigned mode; /* at most 0755 */
    char *data;    /* the "|" lines, each ending with a newline */
    size_t len;
} vh_profile_skel;

typedef struct vh_profile {
    char name[64];
    char *description;
    char **programs, **packages, **files, **pam, **groups, **inetd, **syslog, **notes;
    int nprograms, npackages, nfiles, npam, ngroups, ninetd, nsyslog, nnotes;
    vh_profile_user *users;
    int nusers;
    vh_profile_dir *dirs;
    int ndirs;
    vh_profile_skel *skels;
    int nskels;
    int gconv;
} vh_profile;

/* Is name a profile name (letters, digits, '.', '_', '-'; not starting
 * with '.'; at most 63 bytes)? */
int vh_profile_valid_name(const char *name);

/* Parse text (len bytes) as profile name into p (zeroed first; free it
 * with vh_profile_free, also after an error). 0, or -1 with e
 * (VH_EX_DATAERR) naming the line. */
int vh_profile_parse(const char *name, const char *text, size_t len, vh_profile *p, vh_err *e);

void vh_profile_free(vh_profile *p);

/* Load spec: a profile name, read from DIR/NAME.profile, or a path (it
 * has a '/'). The file must be trusted as virtuald trusts its database:
 * every directory from / down owned by root and not writable by group
 * or others, the file too (a profile makes root copy files into jails
 * and create directories owned by whom it says). 0 or -1 with e. */
int vh_profile_load(const char *dir, const char *spec, vh_profile *p, vh_err *e);

/* The names of the profiles in dir (NAME.profile), sorted, into *names
 * (caller frees each and the array). Returns the count, or -1 with e. */
int vh_profile_list(const char *dir, char ***names, vh_err *e);

#endif
