/*
 * fuzz_r1answer.c -- an answer to a resolve1 Resolve* call's query as the
 * query path hands it back (stub/bus/r1_answer.c): the first octet picks
 * the question's type and whether CNAMEs are followed, the rest is the
 * message.  Every record handed out must be whole: its RDATA where the
 * callback is told, its RDLENGTH what it holds, a PTR's name readable.
 * The shortest record has the root as owner (a CNAME may point there):
 * one octet of name and ten of type, class, TTL and RDLENGTH.
 */
#include <stdlib.h>
#include <string.h>

#include "../../stub/bus/r1_answer.h"
#include "fuzz_target.h"

static int check_rr(void *arg, const uint8_t *rr, size_t len, size_t rdata_off, uint16_t type,
		    uint16_t rclass)
{
	uint8_t name[DNS_NAME_MAX];

	if (rdata_off < 11 || rdata_off > len ||
	    (size_t)((rr[rdata_off - 2] << 8) | rr[rdata_off - 1]) != len - rdata_off)
		__builtin_trap();
	if (type == DNS_TYPE_PTR)
		r1_answer_rdata_name(rr, len, rdata_off, name);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_PTR, 15, DNS_TYPE_CNAME,
					  DNS_TYPE_ANY, DNS_TYPE_TXT, 6 };
	static const uint8_t name[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	static uint8_t buf[R1_ANSWER_RR_MAX];
	struct r1_answer_info info;
	uint8_t query[64];
	int qlen;

	if (size < 1)
		return 0;
	qlen = r1_answer_query(name, sizeof(name), types[data[0] & 7], 1, 7, query, sizeof(query));
	if (qlen < 0)
		__builtin_trap();
	r1_answer_walk(data + 1, size - 1, query, (size_t)qlen, (data[0] & 8) != 0, check_rr, NULL,
		       buf, sizeof(buf), &info);
	return 0;
}
