#include "elfread.h"

#include "exitcodes.h"

#include <elf.h> /* the System V ABI's constants: elfread.h no longer shadows it */
#include <stdint.h>
#include <string.h>

/* On-disk sizes of the headers read (the structs describe them exactly). */
#define EHDR32_SIZE sizeof(Elf32_Ehdr)
#define EHDR64_SIZE sizeof(Elf64_Ehdr)
#define PHDR32_SIZE sizeof(Elf32_Phdr)
#define PHDR64_SIZE sizeof(Elf64_Phdr)

/* Every read goes through a bounds check first: in_bounds(off, n) says
 * that [off, off + n) lies inside the buffer, without overflow. */
struct image {
    const unsigned char *p;
    size_t len;
    int is64;
    int be;
};

static int in_bounds(const struct image *im, uint64_t off, uint64_t n)
{
    return off <= im->len && n <= im->len - off;
}

/* Callers have checked in_bounds(off, width). */
static uint64_t rd(const struct image *im, uint64_t off, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++) {
        unsigned b = im->p[off + (uint64_t)(im->be ? i : width - 1 - i)];
        v = (v << 8) | b;
    }
    return v;
}

/* A word: 8 bytes in ELF64, 4 in ELF32 (addresses, offsets, sizes). */
static int wsz(const struct image *im)
{
    return im->is64 ? 8 : 4;
}

int vh_elfread_is_elf(const void *buf, size_t len)
{
    return len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

struct phdr {
    uint64_t type, offset, vaddr, filesz;
};

static void read_phdr(const struct image *im, uint64_t off, struct phdr *ph)
{
    ph->type = rd(im, off, 4);
    if (im->is64) {
        ph->offset = rd(im, off + 8, 8);
        ph->vaddr = rd(im, off + 16, 8);
        ph->filesz = rd(im, off + 32, 8);
    } else {
        ph->offset = rd(im, off + 4, 4);
        ph->vaddr = rd(im, off + 8, 4);
        ph->filesz = rd(im, off + 16, 4);
    }
}

/* Map a virtual address to a file offset through the PT_LOAD segments,
 * as ld.so sees DT_STRTAB. Returns 0 and *off, or -1. */
static int vaddr_to_off(const struct image *im, uint64_t phoff, unsigned phnum, unsigned phentsize, uint64_t vaddr,
                        uint64_t *off)
{
    for (unsigned i = 0; i < phnum; i++) {
        struct phdr ph;
        read_phdr(im, phoff + (uint64_t)i * phentsize, &ph);
        if (ph.type != PT_LOAD || vaddr < ph.vaddr)
            continue;
        uint64_t delta = vaddr - ph.vaddr;
        if (delta >= ph.filesz)
            continue;
        if (ph.offset > im->len || delta > im->len - ph.offset)
            return -1;
        *off = ph.offset + delta;
        return 0;
    }
    return -1;
}

/* The NUL-terminated string at idx inside the string table
 * [stroff, stroff + strsz), or NULL when it runs off the table. */
static const char *str_at(const struct image *im, uint64_t stroff, uint64_t strsz, uint64_t idx)
{
    if (idx >= strsz)
        return NULL;
    const unsigned char *s = im->p + stroff + idx;
    if (!memchr(s, 0, (size_t)(strsz - idx)))
        return NULL;
    return (const char *)s;
}

int vh_elfread_parse(const void *buf, size_t len, vh_elfread *out, vh_err *e)
{
    memset(out, 0, sizeof *out);
    if (!buf || !vh_elfread_is_elf(buf, len))
        return vh_fail(e, VH_EX_DATAERR, "not an ELF file");
    struct image im = {buf, len, 0, 0};
    if (len < EI_NIDENT)
        return vh_fail(e, VH_EX_DATAERR, "ELF file truncated in its identification");
    switch (im.p[EI_CLASS]) {
    case ELFCLASS32: im.is64 = 0; break;
    case ELFCLASS64: im.is64 = 1; break;
    default: return vh_fail(e, VH_EX_DATAERR, "unknown ELF class %u", im.p[EI_CLASS]);
    }
    switch (im.p[EI_DATA]) {
    case ELFDATA2LSB: im.be = 0; break;
    case ELFDATA2MSB: im.be = 1; break;
    default: return vh_fail(e, VH_EX_DATAERR, "unknown ELF byte order %u", im.p[EI_DATA]);
    }
    if (im.p[EI_VERSION] != EV_CURRENT)
        return vh_fail(e, VH_EX_DATAERR, "unknown ELF version %u", im.p[EI_VERSION]);
    uint64_t ehsize = im.is64 ? EHDR64_SIZE : EHDR32_SIZE;
    if (!in_bounds(&im, 0, ehsize))
        return vh_fail(e, VH_EX_DATAERR, "ELF header truncated (%zu bytes)", len);
    out->elfclass = im.is64 ? 64 : 32;
    out->big_endian = im.be;
    out->type = (unsigned)rd(&im, 16, 2);
    out->machine = (unsigned)rd(&im, 18, 2);
    uint64_t phoff = im.is64 ? rd(&im, 32, 8) : rd(&im, 28, 4);
    unsigned phentsize = (unsigned)rd(&im, im.is64 ? 54 : 42, 2);
    unsigned phnum = (unsigned)rd(&im, im.is64 ? 56 : 44, 2);
    unsigned want = im.is64 ? PHDR64_SIZE : PHDR32_SIZE;
    if (phnum == 0)
        return 0; /* no segments: nothing to load, nothing needed */
    if (phnum == PN_XNUM)
        return vh_fail(e, VH_EX_DATAERR, "ELF file with an extended program header count is not supported");
    if (phentsize < want)
        return vh_fail(e, VH_EX_DATAERR, "ELF program header size %u is smaller than %u", phentsize, want);
    if (!in_bounds(&im, phoff, (uint64_t)phnum * phentsize))
        return vh_fail(e, VH_EX_DATAERR, "ELF program headers (%u at offset %llu) lie outside the file", phnum,
                       (unsigned long long)phoff);

    uint64_t dyn_off = 0, dyn_size = 0;
    for (unsigned i = 0; i < phnum; i++) {
        struct phdr ph;
        read_phdr(&im, phoff + (uint64_t)i * phentsize, &ph);
        if (ph.type == PT_INTERP) {
            if (out->interp)
                return vh_fail(e, VH_EX_DATAERR, "ELF file has more than one PT_INTERP");
            if (ph.filesz == 0 || !in_bounds(&im, ph.offset, ph.filesz))
                return vh_fail(e, VH_EX_DATAERR, "ELF interpreter name lies outside the file");
            const unsigned char *s = im.p + ph.offset;
            const unsigned char *nul = memchr(s, 0, (size_t)ph.filesz);
            if (!nul || nul == s)
                return vh_fail(e, VH_EX_DATAERR, "ELF interpreter name is empty or not terminated");
            out->interp = (const char *)s;
        } else if (ph.type == PT_DYNAMIC) {
            if (out->is_dynamic)
                return vh_fail(e, VH_EX_DATAERR, "ELF file has more than one PT_DYNAMIC");
            if (!in_bounds(&im, ph.offset, ph.filesz))
                return vh_fail(e, VH_EX_DATAERR, "ELF dynamic segment lies outside the file");
            out->is_dynamic = 1;
            dyn_off = ph.offset;
            dyn_size = ph.filesz;
        }
    }
    if (!out->is_dynamic)
        return 0;

    /* First pass over the dynamic section: where the strings are. */
    uint64_t entsz = 2 * (uint64_t)wsz(&im);
    uint64_t n = dyn_size / entsz;
    uint64_t strtab = 0, strsz = 0;
    int has_strtab = 0, has_strsz = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = dyn_off + i * entsz;
        uint64_t tag = rd(&im, off, wsz(&im)), val = rd(&im, off + (uint64_t)wsz(&im), wsz(&im));
        if (tag == DT_NULL) {
            n = i;
            break;
        }
        if (tag == DT_STRTAB) {
            strtab = val;
            has_strtab = 1;
        } else if (tag == DT_STRSZ) {
            strsz = val;
            has_strsz = 1;
        }
    }
    /* Second pass: the names, which are offsets into the string table. */
    uint64_t stroff = 0;
    int strings_ok = has_strtab && has_strsz;
    if (strings_ok) {
        if (vaddr_to_off(&im, phoff, phnum, phentsize, strtab, &stroff) < 0)
            return vh_fail(e, VH_EX_DATAERR, "ELF string table address 0x%llx is not in a loaded segment",
                           (unsigned long long)strtab);
        if (!in_bounds(&im, stroff, strsz))
            return vh_fail(e, VH_EX_DATAERR, "ELF string table (%llu bytes at %llu) lies outside the file",
                           (unsigned long long)strsz, (unsigned long long)stroff);
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = dyn_off + i * entsz;
        uint64_t tag = rd(&im, off, wsz(&im)), val = rd(&im, off + (uint64_t)wsz(&im), wsz(&im));
        if (tag != DT_NEEDED && tag != DT_RUNPATH && tag != DT_RPATH)
            continue;
        if (!strings_ok)
            return vh_fail(e, VH_EX_DATAERR, "ELF dynamic section names libraries but has no string table");
        const char *s = str_at(&im, stroff, strsz, val);
        if (!s)
            return vh_fail(e, VH_EX_DATAERR, "ELF dynamic entry points outside the string table");
        if (tag == DT_NEEDED) {
            if (!*s)
                return vh_fail(e, VH_EX_DATAERR, "ELF file needs a library with an empty name");
            if (out->nneeded >= VH_ELFREAD_MAX_NEEDED)
                return vh_fail(e, VH_EX_DATAERR, "ELF file needs more than %d libraries", VH_ELFREAD_MAX_NEEDED);
            out->needed[out->nneeded++] = s;
        } else if (tag == DT_RUNPATH) {
            out->runpath = s;
        } else {
            out->rpath = s;
        }
    }
    return 0;
}

int vh_elfread_compatible(const vh_elfread *a, const vh_elfread *b)
{
    return a->elfclass == b->elfclass && a->big_endian == b->big_endian && a->machine == b->machine;
}

const char *vh_elfread_multiarch(const vh_elfread *o)
{
    switch (o->machine) {
    case EM_X86_64: return o->elfclass == 64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
    case EM_386: return "i386-linux-gnu";
    case EM_AARCH64: return o->big_endian ? "aarch64_be-linux-gnu" : "aarch64-linux-gnu";
    case EM_ARM: return "arm-linux-gnueabihf";
    case EM_RISCV: return o->elfclass == 64 ? "riscv64-linux-gnu" : NULL;
    case EM_PPC64: return o->big_endian ? "powerpc64-linux-gnu" : "powerpc64le-linux-gnu";
    case EM_S390: return o->elfclass == 64 ? "s390x-linux-gnu" : NULL;
    case EM_MIPS:
        return o->elfclass == 64 ? (o->big_endian ? "mips64-linux-gnuabi64" : "mips64el-linux-gnuabi64")
                                 : (o->big_endian ? "mips-linux-gnu" : "mipsel-linux-gnu");
    default: return NULL;
    }
}
