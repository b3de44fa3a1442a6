/* sqlfiles.h - the migrations in sql/, embedded at build time. */
#ifndef VH_SQLFILES_H
#define VH_SQLFILES_H

struct vh_migration {
    int version;        /* the number that starts the file name */
    const char *name;   /* the file name, for messages */
    const char *sql;    /* the whole file; it ends by setting user_version */
};

extern const struct vh_migration vh_migrations[];
extern const int vh_migration_count;

#endif
