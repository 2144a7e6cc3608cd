/*
 * r1_args.c -- the arguments of the SetLink* methods, read from a message
 * that anyone on the bus may have sent.  sd-bus has checked the signature
 * and that strings are UTF-8 without NUL; everything else is checked
 * here: array lengths against the link's bounds, address families against
 * their lengths, names as DNS names, modes against their words.  Errors
 * are org.freedesktop.DBus.Error.InvalidArgs saying which value is wrong;
 * nothing is kept from a call that fails.
 */
#include "r1_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dotstub/sockaddr.h"
#include "dotstub/wire.h"

#define INVALID SD_BUS_ERROR_INVALID_ARGS

int r1_args_domain(const char *s, char *out, size_t outlen)
{
	uint8_t wire[DNS_NAME_MAX];
	size_t n = strlen(s);

	if (!strcmp(s, ".") || n == 0) {
		if (outlen < 1)
			return -EINVAL;
		out[0] = '\0';
		return 0;
	}
	if (s[n - 1] == '.')
		n--;
	if (n > DS_LINK_DOMAIN_MAX || n >= outlen)
		return -EINVAL;
	/* printable ASCII, no escapes: what a search or routing domain is */
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '\\')
			return -EINVAL;
	if (s[0] == '.' || dns_name_from_str(s, wire) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	return 0;
}

/* An address a link may name as its DNS server: not unspecified, not
 * multicast. */
static bool usable_addr(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == AF_INET)
		return memcmp(a, zero, 4) != 0 && (a[0] & 0xf0) != 0xe0;
	return memcmp(a, zero, 16) != 0 && a[0] != 0xff;
}

static int set_addr(struct sockaddr_storage *ss, int family, const uint8_t *a, uint16_t port,
		    int ifindex)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a, 16);
		ds_sockaddr_scope_to_link(ss, (unsigned)ifindex);
	}
	return 0;
}

int r1_args_read_dns(sd_bus_message *m, bool ex, int ifindex, struct ds_link_dns *dns, int *n,
		     sd_bus_error *err)
{
	const char *item = ex ? "iayqs" : "iay";
	int r;

	*n = 0;
	r = sd_bus_message_enter_container(m, 'a', ex ? "(iayqs)" : "(iay)");
	if (r < 0)
		return r;
	for (;;) {
		const void *a;
		size_t alen;
		int32_t family;
		uint16_t port = 53;
		const char *name = "";

		r = sd_bus_message_enter_container(m, 'r', item);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		if (*n >= DS_LINK_MAX_DNS)
			return sd_bus_error_setf(err, INVALID,
						 "too many DNS servers: at most %d per link",
						 DS_LINK_MAX_DNS);
		r = sd_bus_message_read(m, "i", &family);
		if (r < 0)
			return r;
		r = sd_bus_message_read_array(m, 'y', &a, &alen);
		if (r < 0)
			return r;
		if (ex && (r = sd_bus_message_read(m, "qs", &port, &name)) < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
		if (family != AF_INET && family != AF_INET6)
			return sd_bus_error_setf(err, INVALID,
						 "DNS server %d: unknown address family %d", *n + 1,
						 (int)family);
		if (alen != (family == AF_INET ? 4u : 16u))
			return sd_bus_error_setf(err, INVALID,
						 "DNS server %d: an %s address of %zu octets", *n + 1,
						 family == AF_INET ? "IPv4" : "IPv6", alen);
		if (!usable_addr(family, a))
			return sd_bus_error_setf(err, INVALID,
						 "DNS server %d: unspecified or multicast address",
						 *n + 1);
		if (port == 0)
			port = 53;
		memset(&dns[*n], 0, sizeof(dns[*n]));
		if (name[0] && r1_args_domain(name, dns[*n].server_name,
					      sizeof(dns[*n].server_name)) < 0)
			return sd_bus_error_setf(err, INVALID,
						 "DNS server %d: server name is not a domain name",
						 *n + 1);
		set_addr(&dns[*n].addr, family, a, port, ifindex);
		(*n)++;
	}
	return sd_bus_message_exit_container(m);
}

int r1_args_read_domains(sd_bus_message *m, struct ds_link_domain *dom, int *n,
			 sd_bus_error *err)
{
	int r;

	*n = 0;
	r = sd_bus_message_enter_container(m, 'a', "(sb)");
	if (r < 0)
		return r;
	for (;;) {
		const char *name;
		int route_only;

		r = sd_bus_message_read(m, "(sb)", &name, &route_only);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		if (*n >= DS_LINK_MAX_DOMAINS)
			return sd_bus_error_setf(err, INVALID,
						 "too many domains: at most %d per link",
						 DS_LINK_MAX_DOMAINS);
		if (r1_args_domain(name, dom[*n].name, sizeof(dom[*n].name)) < 0)
			return sd_bus_error_setf(err, INVALID,
						 "domain %d is not a domain name of at most %d "
						 "characters",
						 *n + 1, DS_LINK_DOMAIN_MAX);
		dom[*n].route_only = route_only != 0;
		/* the same domain twice: the later one says it */
		for (int i = 0; i < *n; i++)
			if (!strcmp(dom[i].name, dom[*n].name)) {
				dom[i].route_only = dom[*n].route_only;
				(*n)--;
				break;
			}
		(*n)++;
	}
	return sd_bus_message_exit_container(m);
}

bool r1_args_mode_ok(const char *what, const char *s)
{
	static const char *const dnssec[] = { "yes", "no", "allow-downgrade", NULL };
	static const char *const mcast[] = { "yes", "no", "resolve", NULL };
	static const char *const dot[] = { "yes", "no", "opportunistic", NULL };
	const char *const *words = !strcmp(what, "DNSSEC") ? dnssec
				   : !strcmp(what, "DNSOverTLS") ? dot
								 : mcast;

	if (!s[0])
		return true;
	for (; *words; words++)
		if (!strcmp(*words, s))
			return true;
	return false;
}

static bool is_loopback(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool lo = false;

	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		lo = (ifr.ifr_flags & IFF_LOOPBACK) != 0;
	close(fd);
	return lo;
}

int r1_args_ifindex(int ifindex, char ifname[IF_NAMESIZE], sd_bus_error *err)
{
	if (ifindex <= 0)
		return sd_bus_error_setf(err, INVALID, "invalid interface index %d", ifindex);
	if (!if_indextoname((unsigned)ifindex, ifname))
		return sd_bus_error_setf(err, R1_ERR_NO_SUCH_LINK, "no link with index %d", ifindex);
	if (is_loopback(ifname))
		return sd_bus_error_setf(err, R1_ERR_LINK_BUSY,
					 "link %s is the loopback device: not configurable",
					 ifname);
	return 0;
}
