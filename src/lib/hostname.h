/* hostname.h - the one host-name check and normalisation of fleet.md
 * 2.6, shared by the PROXY parser (v2 AUTHORITY TLV, proxy.c) and the
 * ClientHello parser (server_name, tls.c): the two must compare the same
 * way, or AUTHORITY and SNI could disagree on equal names (THREATS L5).
 * Pure: no I/O, no allocation, no global state. */
#ifndef VH_HOSTNAME_H
#define VH_HOSTNAME_H

#include <stddef.h>

/* fleet.md 2.6 step 3 (RFC 1035 2.3.4): at most 253 bytes without the
 * trailing dot, labels 1..63. */
#define VH_HOSTNAME_MAX 253
#define VH_HOSTNAME_LABEL_MAX 63

/* Why a name was refused; the first rule broken, in the order of
 * fleet.md 2.6. */
typedef enum vh_hostname_error {
    VH_HOSTNAME_OK = 0,
    VH_HOSTNAME_BYTE,   /* a byte outside %x21-7E: NUL, space, 8-bit (a U-label) */
    VH_HOSTNAME_LENGTH, /* nothing, or more than 253 bytes, after one trailing dot */
    VH_HOSTNAME_CHAR,   /* printable, but not a letter, digit, hyphen or dot */
    VH_HOSTNAME_LABEL,  /* an empty label (two dots, a leading dot, "..") or one over 63 bytes */
    VH_HOSTNAME_HYPHEN, /* a label starting or ending with a hyphen */
} vh_hostname_error;

/* Check and normalise the n bytes at v as a host name (fleet.md 2.6):
 * every byte %x21-7E; one trailing dot stripped; A-Z lower-cased;
 * letters, digits, hyphens and dots only; labels 1..63 bytes without a
 * leading or trailing hyphen; 1..253 bytes in all. On success out holds
 * the normalised name, or is empty when every label is all digits (an IP
 * literal: a valid string but no name, step 4). On a refusal out is
 * empty. Never reads past v[n-1]; v need not be terminated. */
vh_hostname_error vh_hostname_norm(const unsigned char *v, size_t n, char out[VH_HOSTNAME_MAX + 1]);

/* One line naming the rule, for a log or an error message. */
const char *vh_hostname_error_text(vh_hostname_error e);

#endif
