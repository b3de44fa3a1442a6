/* mem.h - SQLite's allocator in virtuald. */
#ifndef VH_MEM_H
#define VH_MEM_H

#include <stddef.h>

/* Make SQLite allocate from a static arena with per-size free lists
 * (see mem.c). For a single-threaded process that lives for one lookup:
 * virtuald. Call before any other SQLite function; returns SQLITE_OK, or
 * SQLITE_MISUSE when SQLite is already initialised (then nothing changes). */
int vh_mem_use_for_sqlite(void);

/* Populate the stack pages below the caller's frame that a run will touch
 * anyway (one madvise instead of one page fault each; best effort, see
 * mem.c). */
void vh_mem_prefault_stack(size_t bytes);

#endif
