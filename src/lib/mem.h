/* mem.h - SQLite's allocator in virtuald. */
#ifndef VH_MEM_H
#define VH_MEM_H

/* Make SQLite allocate from a static arena with per-size free lists
 * (see mem.c). For a single-threaded process that lives for one lookup:
 * virtuald. Call before any other SQLite function; returns SQLITE_OK, or
 * SQLITE_MISUSE when SQLite is already initialised (then nothing changes). */
int vh_mem_use_for_sqlite(void);

#endif
