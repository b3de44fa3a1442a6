#include "mem.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A size-class allocator for SQLite in virtuald (SQLITE_CONFIG_MALLOC).
 *
 * virtuald's SQLite makes some 450 allocations and as many frees per
 * connection; through glibc's malloc they were a fifth of its
 * instructions (bench/REPORT.md). Here a block comes from a free list of
 * its power-of-two class or from a bump pointer into a static arena, and
 * goes back onto its class's free list: a few instructions each, blocks
 * reused at once, nothing returned to the system (the process lives for
 * one lookup). A request the arena cannot hold goes to malloc(3).
 *
 * Every block has an 8-byte header holding its usable size, so that
 * xSize and xRealloc need no search; blocks are 8-byte aligned, as
 * SQLite requires (sqlite3_mem_methods). */

#define VH_MEM_ARENA (1u << 20)   /* bytes; untouched pages cost nothing */
#define VH_MEM_MIN_SHIFT 4        /* smallest block 16 bytes, header included */
#define VH_MEM_MAX_SHIFT 18       /* largest arena block 256 KiB */
#define VH_MEM_HDR 8

static unsigned char arena[VH_MEM_ARENA] __attribute__((aligned(16)));
static size_t arena_used;
static void *free_list[VH_MEM_MAX_SHIFT + 1];

static int in_arena(const void *p)
{
    const unsigned char *c = p;
    return c >= arena && c < arena + VH_MEM_ARENA;
}

/* the class (shift) whose blocks hold n bytes after the header, or -1 */
static int class_of(uint64_t n)
{
    uint64_t need = n + VH_MEM_HDR;
    if (need <= ((uint64_t)1 << VH_MEM_MIN_SHIFT))
        return VH_MEM_MIN_SHIFT;
    if (need > ((uint64_t)1 << VH_MEM_MAX_SHIFT))
        return -1;
    return 64 - __builtin_clzll(need - 1); /* smallest s with 2^s >= need */
}

static void *mem_malloc(int n)
{
    if (n <= 0)
        return NULL;
    int s = class_of((uint64_t)n);
    unsigned char *b = NULL;
    if (s >= 0) {
        if (free_list[s]) {
            b = free_list[s];
            memcpy(&free_list[s], b + VH_MEM_HDR, sizeof(void *));
        } else if (arena_used + ((size_t)1 << s) <= VH_MEM_ARENA) {
            b = arena + arena_used;
            arena_used += (size_t)1 << s;
        }
        if (b) {
            uint64_t usable = ((uint64_t)1 << s) - VH_MEM_HDR;
            memcpy(b, &usable, sizeof usable);
            return b + VH_MEM_HDR;
        }
    }
    b = malloc((size_t)n + VH_MEM_HDR);
    if (!b)
        return NULL;
    uint64_t usable = (uint64_t)n;
    memcpy(b, &usable, sizeof usable);
    return b + VH_MEM_HDR;
}

static int mem_size(void *p)
{
    uint64_t usable;
    memcpy(&usable, (unsigned char *)p - VH_MEM_HDR, sizeof usable);
    return (int)usable;
}

static void mem_free(void *p)
{
    if (!p)
        return;
    unsigned char *b = (unsigned char *)p - VH_MEM_HDR;
    if (!in_arena(b)) {
        free(b);
        return;
    }
    int s = class_of((uint64_t)mem_size(p));
    /* the link lives where the caller's data was */
    memcpy(p, &free_list[s], sizeof(void *));
    free_list[s] = b;
}

static void *mem_realloc(void *p, int n)
{
    if (!p)
        return mem_malloc(n);
    int old = mem_size(p);
    if (n <= old && in_arena((unsigned char *)p - VH_MEM_HDR))
        return p;
    void *q = mem_malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, (size_t)(old < n ? old : n));
    mem_free(p);
    return q;
}

static int mem_roundup(int n)
{
    int s = class_of((uint64_t)(n > 0 ? n : 1));
    return s >= 0 ? (1 << s) - VH_MEM_HDR : (n + 7) & ~7;
}

static int mem_init(void *ctx)
{
    (void)ctx;
    return SQLITE_OK;
}

static void mem_shutdown(void *ctx)
{
    (void)ctx;
}

int vh_mem_use_for_sqlite(void)
{
    static const sqlite3_mem_methods m = {mem_malloc, mem_free, mem_realloc, mem_size, mem_roundup,
                                          mem_init,   mem_shutdown, NULL};
    return sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
}
