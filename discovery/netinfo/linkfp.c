/*
 * linkfp.c -- what a link that is not the default route's is, for the
 * trust store (include/dotstub/netinfo.h, section 5): a fingerprint made
 * of the link's resolvers and, in the IPv4 part, its name and MAC
 * address; and the reverse zones of a link's own prefixes, which are
 * routed to it.
 *
 * The default route's link keeps the fingerprint netwatch reads (the
 * gateway, its MAC, ...).  A VPN or a second network has no gateway of
 * its own to tell it by; its addresses are often handed out per session,
 * so they are left out: the same VPN comes back as the same network when
 * it has the same interface name, MAC (if any) and resolvers.
 */
#include "dotstub/netinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The interface's Ethernet address, if it has one. */
static bool link_mac(const char *ifname, uint8_t mac[DS_ETH_ALEN])
{
	struct ifreq ifr;
	bool ok = false;
	int fd;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
		static const uint8_t zero[DS_ETH_ALEN];

		memcpy(mac, ifr.ifr_hwaddr.sa_data, DS_ETH_ALEN);
		ok = memcmp(mac, zero, DS_ETH_ALEN) != 0;
	}
	close(fd);
	return ok;
}

int ds_netfp_of_link(const char *ifname, const struct ds_netaddr *res, size_t n,
		     struct ds_netfp *ret)
{
	struct ds_netfp fp;
	struct ds_netfp_af *af = &fp.af[DS_NETFP_V4];
	int r;

	ds_netfp_init(&fp);
	r = ds_netfp_set_resolvers(&fp, res, n);
	if (r < 0)
		return r;
	if (ifname && ifname[0]) {
		af->route = true;
		snprintf(af->ifname, sizeof(af->ifname), "%s", ifname);
		af->has_ifmac = link_mac(ifname, af->ifmac);
	}
	*ret = fp;
	return 0;
}

int ds_reverse_zones(const struct ds_netaddr *a, unsigned prefixlen,
		     char (*out)[DS_REVZONE_MAX], int cap)
{
	unsigned step = a->family == AF_INET ? 8 : 4;
	unsigned bits = a->family == AF_INET ? 32 : 128;
	unsigned whole, more, count;
	int n = 0;

	if ((a->family != AF_INET && a->family != AF_INET6) || prefixlen > bits || cap <= 0)
		return -EINVAL;
	/* a zone per label: a prefix between labels is covered by the
	 * zones one label longer (at most DS_REVZONE_SPLIT of them), or
	 * else by the shorter one that holds it */
	whole = prefixlen / step * step;
	more = prefixlen - whole;
	count = more ? 1u << (step - more) : 1;
	if (more && count > DS_REVZONE_SPLIT) {
		count = 1;
		more = 0;
	}
	if (whole == 0 && more == 0)
		return 0; /* a default route's prefix: not a link's own */
	for (unsigned k = 0; k < count && n < cap; k++) {
		uint8_t b[16];
		unsigned labels = (whole + (more ? step : 0)) / step;
		size_t len = 0;

		memcpy(b, a->u.b, sizeof(b));
		if (more) {
			/* the label after the whole ones: its high bits from
			 * the address, its low bits k */
			unsigned idx = whole / step, keep = more;
			unsigned v;

			if (step == 8) {
				v = b[idx] & (0xffu << (8 - keep)) & 0xffu;
				b[idx] = (uint8_t)(v | k);
			} else {
				unsigned byte = idx / 2, hi = idx % 2 == 0;
				unsigned nib = hi ? b[byte] >> 4 : b[byte] & 0x0f;

				nib = (nib & (0x0fu << (4 - keep)) & 0x0fu) | k;
				b[byte] = (uint8_t)(hi ? (b[byte] & 0x0f) | (nib << 4)
						       : (b[byte] & 0xf0) | nib);
			}
		}
		out[n][0] = '\0';
		for (unsigned l = labels; l-- > 0;) {
			unsigned v = step == 8 ? b[l] : (l % 2 == 0 ? b[l / 2] >> 4 : b[l / 2] & 0x0f);

			len += (size_t)snprintf(out[n] + len, DS_REVZONE_MAX - len,
						step == 8 ? "%u." : "%x.", v);
		}
		snprintf(out[n] + len, DS_REVZONE_MAX - len, "%s",
			 step == 8 ? "in-addr.arpa" : "ip6.arpa");
		n++;
	}
	return n;
}
