/*
 * ddr_int.h -- what the files of the DDR/DNR parsers share (dotstub/ddr.h
 * is their interface).
 */
#ifndef DOTSTUB_DDR_INT_H
#define DOTSTUB_DDR_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dotstub/ddr.h"

/* Write the reason (printf) into reason[reasonlen]; returns -EBADMSG. */
int ddr_reason(char *reason, size_t reasonlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Why an address cannot be a resolver's (RFC 9463 4.2, 5.2, 6.2, and
 * [dotstub] addresses that name no host), or NULL (ddr_dnr.c). */
const char *ddr_v4_unusable(const uint8_t a[4]);
const char *ddr_v6_unusable(const uint8_t a[16]);

struct dns_reader;

/* Start reading the answer msg[0..len): its flags and ANCOUNT, rd left
 * after its question (one, not compared: the caller's job).  0, or
 * -EBADMSG if the header or the question is cut short (ddr_query.c). */
int ddr_msg_begin(struct dns_reader *rd, const uint8_t *msg, size_t len, uint16_t *flags,
		  unsigned *ancount);

/* Read the answer msg[0..len) to "qname SVCB" like ddr_query_answer, for
 * any qname (wire form) (ddr_query.c). */
int ddr_query_answer_for(const uint8_t *msg, size_t len, const uint8_t *qname, size_t qlen,
			 struct ddr_query *out);

/* Ask server for "qname SVCB" like ddr_query (ddr_query.c). */
int ddr_query_for(const struct sockaddr_storage *server, const uint8_t *qname, size_t qlen,
		  unsigned timeout_ms, const atomic_bool *cancel, struct ddr_query *out);

#endif
