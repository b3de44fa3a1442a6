/* elf_builder.h - hand-made ELF images for the unit tests of elf.c and
 * jailcheck.c: a header, PT_LOAD over the whole file, PT_INTERP and
 * PT_DYNAMIC with DT_NEEDED/DT_RUNPATH/DT_RPATH/DT_STRTAB/DT_STRSZ.
 * The layout is returned so that tests can corrupt one field at a time.
 * Header-only test support (static functions), not library code. */
#ifndef VH_TEST_ELF_BUILDER_H
#define VH_TEST_ELF_BUILDER_H

#include <stdint.h>
#include <string.h>

#define EB_MAX_NEEDED 600

struct eb {
    int is64, be;
    unsigned machine;   /* 62: x86-64 */
    const char *interp; /* NULL: no PT_INTERP */
    const char *needed[EB_MAX_NEEDED];
    int nneeded;
    const char *runpath, *rpath;
    int no_dynamic; /* no PT_DYNAMIC at all */
};

struct eb_layout {
    size_t phoff, phentsize, phnum;
    size_t interp_ph, dyn_ph, load_ph; /* offsets of those program headers */
    size_t interp_off, str_off, str_size, dyn_off, dyn_size;
    size_t total;
    uint64_t vbase;
};

static void eb_put(unsigned char *b, size_t off, int width, uint64_t v, int be)
{
    for (int i = 0; i < width; i++) {
        int shift = 8 * (be ? width - 1 - i : i);
        b[off + (size_t)i] = (unsigned char)(v >> shift);
    }
}

/* Build into out (cap bytes); returns the size, 0 when it does not fit. */
static size_t eb_build(const struct eb *e, unsigned char *out, size_t cap, struct eb_layout *L)
{
    int w = e->is64 ? 8 : 4, be = e->be;
    memset(L, 0, sizeof *L);
    L->vbase = 0x400000;
    L->phoff = e->is64 ? 64 : 52;
    L->phentsize = e->is64 ? 56 : 32;
    L->phnum = 1 + (e->interp ? 1 : 0) + (e->no_dynamic ? 0 : 1);
    size_t off = L->phoff + L->phnum * L->phentsize;
    /* strings: interp, then the string table */
    if (e->interp) {
        L->interp_off = off;
        off += strlen(e->interp) + 1;
    }
    L->str_off = off;
    size_t s = 1; /* index 0: the empty string */
    for (int i = 0; i < e->nneeded; i++)
        s += strlen(e->needed[i]) + 1;
    if (e->runpath)
        s += strlen(e->runpath) + 1;
    if (e->rpath)
        s += strlen(e->rpath) + 1;
    L->str_size = s;
    off += s;
    off = (off + 7) & ~(size_t)7;
    L->dyn_off = off;
    size_t nent = (size_t)e->nneeded + (e->runpath ? 1 : 0) + (e->rpath ? 1 : 0) + 3;
    L->dyn_size = e->no_dynamic ? 0 : nent * 2 * (size_t)w;
    off += L->dyn_size;
    L->total = off;
    if (off > cap)
        return 0;
    memset(out, 0, off);

    /* identification and header */
    memcpy(out, "\177ELF", 4);
    out[4] = e->is64 ? 2 : 1;
    out[5] = be ? 2 : 1;
    out[6] = 1;
    eb_put(out, 16, 2, 3 /* ET_DYN */, be);
    eb_put(out, 18, 2, e->machine, be);
    eb_put(out, 20, 4, 1, be);
    if (e->is64) {
        eb_put(out, 32, 8, L->phoff, be);
        eb_put(out, 52, 2, 64, be);
        eb_put(out, 54, 2, L->phentsize, be);
        eb_put(out, 56, 2, L->phnum, be);
    } else {
        eb_put(out, 28, 4, L->phoff, be);
        eb_put(out, 40, 2, 52, be);
        eb_put(out, 42, 2, L->phentsize, be);
        eb_put(out, 44, 2, L->phnum, be);
    }
    /* program headers: type, offset, vaddr, filesz */
    size_t ph = L->phoff;
#define EB_PH(type, o, va, sz)                                                                                         \
    do {                                                                                                               \
        eb_put(out, ph, 4, type, be);                                                                                  \
        if (e->is64) {                                                                                                 \
            eb_put(out, ph + 8, 8, o, be);                                                                             \
            eb_put(out, ph + 16, 8, va, be);                                                                           \
            eb_put(out, ph + 32, 8, sz, be);                                                                           \
            eb_put(out, ph + 40, 8, sz, be);                                                                           \
        } else {                                                                                                       \
            eb_put(out, ph + 4, 4, o, be);                                                                             \
            eb_put(out, ph + 8, 4, va, be);                                                                            \
            eb_put(out, ph + 16, 4, sz, be);                                                                           \
            eb_put(out, ph + 20, 4, sz, be);                                                                           \
        }                                                                                                              \
        ph += L->phentsize;                                                                                            \
    } while (0)
    L->load_ph = ph;
    EB_PH(1, 0, L->vbase, L->total);
    if (e->interp) {
        L->interp_ph = ph;
        EB_PH(3, L->interp_off, L->vbase + L->interp_off, strlen(e->interp) + 1);
        memcpy(out + L->interp_off, e->interp, strlen(e->interp) + 1);
    }
    if (!e->no_dynamic) {
        L->dyn_ph = ph;
        EB_PH(2, L->dyn_off, L->vbase + L->dyn_off, L->dyn_size);
    }
#undef EB_PH
    /* string table and dynamic entries */
    size_t si = 1, d = L->dyn_off;
#define EB_DYN(tag, val)                                                                                               \
    do {                                                                                                               \
        eb_put(out, d, w, tag, be);                                                                                    \
        eb_put(out, d + (size_t)w, w, val, be);                                                                        \
        d += 2 * (size_t)w;                                                                                            \
    } while (0)
#define EB_STR(tag, str)                                                                                               \
    do {                                                                                                               \
        memcpy(out + L->str_off + si, str, strlen(str) + 1);                                                           \
        if (!e->no_dynamic)                                                                                            \
            EB_DYN(tag, si);                                                                                           \
        si += strlen(str) + 1;                                                                                         \
    } while (0)
    for (int i = 0; i < e->nneeded; i++)
        EB_STR(1, e->needed[i]);
    if (e->runpath)
        EB_STR(29, e->runpath);
    if (e->rpath)
        EB_STR(15, e->rpath);
    if (!e->no_dynamic) {
        EB_DYN(5, L->vbase + L->str_off);
        EB_DYN(10, L->str_size);
        EB_DYN(0, 0);
    }
#undef EB_STR
#undef EB_DYN
    return L->total;
}

#endif
