/*
 * msg_int.h -- what the files of DNS messages share (query.c, response.c,
 * answer.c, padding.c): big-endian octets in place, the OPT record's sizes,
 * the TTL rule, and the PADDING option's writer.
 */
#ifndef DOTSTUB_MSG_INT_H
#define DOTSTUB_MSG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dotstub/message.h"

#define OPT_FIXED_LEN 11 /* owner (root), type, class, TTL, RDLENGTH */
#define OPT_HDR_LEN 4	 /* option code, option length */

static inline void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 2181 8: a TTL with the top bit set is treated as zero */
static inline uint32_t
ttl_sane(uint32_t ttl)
{
	return (ttl & 0x80000000u) ? 0 : ttl;
}

/* Append a PADDING option so that w->len becomes a multiple of block,
 * but never more than limit octets in total (then pad up to limit, or not
 * at all if even the option header does not fit).  padding.c */
void msg_write_padding(struct dns_writer *w, size_t block, size_t limit);

#endif
