/*
 * fuzz_store.c -- the trust part's parsers of untrusted text: the anchor
 * store file (trust_store_parse; what parses must format and parse back
 * to the same text) and one managed-anchor line (trust_dnskey_parse_rr;
 * a parsed key must format and parse back to the same key).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/trust.h"
#include "fuzz_target.h"

static void check_store(const uint8_t *data, size_t size)
{
	struct trust_store *s = trust_store_new_memory(0), *t = trust_store_new_memory(0);
	char *text = NULL, *again = NULL, msg[256];
	size_t len = 0, len2 = 0;
	unsigned line;
	int r;

	if (!s || !t)
		abort();
	r = trust_store_parse(s, (const char *)data, size, &line, msg, sizeof(msg));

	if (r == 0) {
		if (trust_store_format(s, &text, &len) < 0)
			abort();
		if (trust_store_parse(t, text, len, NULL, NULL, 0) < 0)
			abort();
		if (trust_store_format(t, &again, &len2) < 0)
			abort();
		if (len != len2 || memcmp(text, again, len) != 0)
			abort();
	} else if (r == -EBADMSG && strncmp(msg, "line ", 5) != 0) {
		abort(); /* every error names its line */
	}
	free(text);
	free(again);
	trust_store_close(s);
	trust_store_close(t);
}

static void check_key_line(const uint8_t *data, size_t size)
{
	char line[1024], zone[TRUST_NAME_MAX + 1], out[2048];
	struct trust_dnskey k, back;
	size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;

	memcpy(line, data, n);
	line[n] = '\0';
	if (trust_dnskey_parse_rr(line, zone, &k) != 0)
		return;
	if (trust_dnskey_format(&k, out, sizeof(out)) < 0 || trust_dnskey_parse(out, &back) != 0 ||
	    !trust_dnskey_equal(&k, &back))
		abort();
	(void)trust_dnskey_tag(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_store(data, size);
	check_key_line(data, size);
	return 0;
}
