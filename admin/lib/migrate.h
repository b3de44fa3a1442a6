/* migrate.h - the schema: sql/NNN_*.sql, embedded at build time
 * (sqlfiles.h), applied in order. */
#ifndef VH_MIGRATE_H
#define VH_MIGRATE_H

#include "vherr.h"

typedef struct sqlite3 sqlite3;

/* Create or upgrade the schema in one transaction; idempotent. *from and
 * *to receive the versions before and after (may be NULL). */
int vh_migrate(sqlite3 *db, int *from, int *to, vh_err *e);

#endif
