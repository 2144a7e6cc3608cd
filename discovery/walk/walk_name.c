/*
 * walk_name.c -- what a unique name N may be (PROTOCOL.md, "What the
 * resolver publishes").  The form of N carries no security: everything
 * under it is validated from the pinned key.  So any host name is a unique
 * name, except the special-use names a resolver could not own and a name
 * too long for the records published under it; 12 base32hex characters
 * then ".zz" is only the recommended form.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "walk_int.h"

#define RECOMMENDED_LABEL_LEN 12

/* Names no resolver can be: N itself or anything under them (the names
 * of the discovery protocol, RFC 9462's resolver.arpa, and RFC 6761's
 * localhost and invalid), and the TLD arpa itself. */
static const char *const special_zone[] = {
	"resolver-name.arpa.",
	"resolver.arpa.",
	"localhost.",
	"invalid.",
};

/* Is the presentation name n (lower case, trailing dot) zone or under it? */
static bool
name_in(const char *n, const char *zone)
{
	size_t nl = strlen(n), zl = strlen(zone);

	if (nl == zl)
		return strcmp(n, zone) == 0;
	return nl > zl && n[nl - zl - 1] == '.' && strcmp(n + nl - zl, zone) == 0;
}

static bool
special_use(const char *n)
{
	size_t i;

	if (strcmp(n, "arpa.") == 0)
		return true;
	for (i = 0; i < sizeof(special_zone) / sizeof(special_zone[0]); i++) {
		if (name_in(n, special_zone[i]))
			return true;
	}
	return false;
}

/* RFC 1123 2.1: the top-level label of a host name is not all digits (it
 * would read as an IPv4 address). */
static bool
numeric_tld(const char *n)
{
	size_t end = strlen(n) - 1, start = end;

	while (start > 0 && n[start - 1] != '.')
		start--;
	while (start < end && isdigit((unsigned char)n[start]))
		start++;
	return start == end;
}

enum disc_name
disc_name_check(const uint8_t *name, size_t len, char *out, size_t outlen)
{
	char n[DNS_NAME_MAX + 1];

	if (!walk_host_name(name, len, n, sizeof(n)))
		return DISC_NAME_NOT_HOST;
	if (special_use(n))
		return DISC_NAME_SPECIAL;
	if (numeric_tld(n))
		return DISC_NAME_NUMERIC;
	if (len > DISC_NAME_WIRE_MAX)
		return DISC_NAME_TOO_LONG;
	if (strlen(n) >= outlen)
		return DISC_NAME_TOO_LONG;
	memcpy(out, n, strlen(n) + 1);
	return DISC_NAME_OK;
}

const char *
disc_name_problem(enum disc_name c)
{
	switch (c) {
	case DISC_NAME_OK:
		return "a unique name";
	case DISC_NAME_NOT_HOST:
		return "not a host name (labels of 1 to 63 letters, digits and hyphens, "
		       "no hyphen first or last)";
	case DISC_NAME_SPECIAL:
		return "a special-use name (resolver-name.arpa, resolver.arpa, localhost, "
		       "invalid or a name under them, or arpa itself)";
	case DISC_NAME_NUMERIC:
		return "its last label is all digits (it would read as an address)";
	case DISC_NAME_TOO_LONG:
		return "too long (at most 234 characters: N.resolver-name.arpa must fit "
		       "in 255 octets)";
	}
	return "?";
}

bool
disc_name_recommended(const char *name)
{
	size_t i;

	for (i = 0; i < RECOMMENDED_LABEL_LEN; i++) {
		char c = (char)tolower((unsigned char)name[i]);

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'v')))
			return false;
	}
	return strcasecmp(name + RECOMMENDED_LABEL_LEN, ".zz") == 0 ||
	       strcasecmp(name + RECOMMENDED_LABEL_LEN, ".zz.") == 0;
}
