/*
 * hex.h -- hexadecimal digits, the one implementation every part uses
 * (TLSA data, SHA-256 digests, MAC addresses).  Nothing here allocates or
 * logs.
 */
#ifndef DOTSTUB_HEX_H
#define DOTSTUB_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int ds_hex_digit(char c);
/* Exactly 2*outlen hex digits in in[0..inlen) into out.  Returns 0 or
 * -EINVAL (wrong length, not a digit); out may be partly written then. */
int ds_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);
/* Lower-case hex of n octets into out (2n + 1 octets with the NUL). */
void ds_hex_encode(const uint8_t *in, size_t n, char *out);

#endif
