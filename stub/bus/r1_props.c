/*
 * r1_props.c -- property values of the Manager and the Link objects, in
 * resolved's signatures (org.freedesktop.resolve1(5)): DNS servers as
 * (family, address octets[, port, server name]), domains as (name,
 * routing-only), the current server, ResolvConfMode.
 */
#include "r1_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* family, address octets and port of ss; false if it is neither IPv4
 * nor IPv6 */
static bool addr_parts(const struct sockaddr_storage *ss, int *family, const void **a,
		       size_t *alen, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		*family = AF_INET, *a = &sin->sin_addr, *alen = 4, *port = ntohs(sin->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		*family = AF_INET6, *a = &sin6->sin6_addr, *alen = 16;
		*port = ntohs(sin6->sin6_port);
		return true;
	}
	return false;
}

/* One server: [i]iay[qs], inside an open struct. */
static int append_server(sd_bus_message *reply, int ifindex, bool with_ifindex,
			 const struct sockaddr_storage *ss, const char *name, bool ex)
{
	const void *a;
	size_t alen;
	uint16_t port;
	int family, r;

	if (!addr_parts(ss, &family, &a, &alen, &port))
		return -EAFNOSUPPORT;
	if (with_ifindex && (r = sd_bus_message_append(reply, "i", (int32_t)ifindex)) < 0)
		return r;
	r = sd_bus_message_append(reply, "i", (int32_t)family);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', a, alen);
	/* port 0 is resolved's "the default", 53 */
	if (r >= 0 && ex)
		r = sd_bus_message_append(reply, "qs", port == 53 ? 0 : port, name ? name : "");
	return r;
}

static int append_server_struct(sd_bus_message *reply, int ifindex, bool with_ifindex,
				const struct sockaddr_storage *ss, const char *name, bool ex)
{
	const char *sig = with_ifindex ? (ex ? "iiayqs" : "iiay") : (ex ? "iayqs" : "iay");
	int r = sd_bus_message_open_container(reply, 'r', sig);

	if (r >= 0)
		r = append_server(reply, ifindex, with_ifindex, ss, name, ex);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int r1_props_link_dns(sd_bus_message *reply, const struct ds_linkconf *lc, bool ex)
{
	int r = sd_bus_message_open_container(reply, 'a', ex ? "(iayqs)" : "(iay)");

	for (int i = 0; r >= 0 && i < lc->ndns && i < DS_LINK_MAX_DNS; i++)
		r = append_server_struct(reply, lc->ifindex, false, &lc->dns[i].addr,
					 lc->dns[i].server_name, ex);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int r1_props_link_domains(sd_bus_message *reply, const struct ds_linkconf *lc)
{
	int r = sd_bus_message_open_container(reply, 'a', "(sb)");

	for (int i = 0; r >= 0 && i < lc->ndomains && i < DS_LINK_MAX_DOMAINS; i++)
		r = sd_bus_message_append(reply, "(sb)",
					  lc->domains[i].name[0] ? lc->domains[i].name : ".",
					  (int)lc->domains[i].route_only);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int r1_props_current(sd_bus_message *reply, const struct ds_r1_linkstate *st, bool ex,
		     bool with_ifindex)
{
	const char *sig = with_ifindex ? (ex ? "iiayqs" : "iiay") : (ex ? "iayqs" : "iay");
	int r;

	if (st->serving)
		return append_server_struct(reply, st->ifindex, with_ifindex, &st->current,
					    st->server_name, ex);
	/* no current server: resolved's empty value, family AF_UNSPEC */
	r = sd_bus_message_open_container(reply, 'r', sig);
	if (r >= 0 && with_ifindex)
		r = sd_bus_message_append(reply, "i", (int32_t)0);
	if (r >= 0)
		r = sd_bus_message_append(reply, "i", (int32_t)AF_UNSPEC);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', NULL, 0);
	if (r >= 0 && ex)
		r = sd_bus_message_append(reply, "qs", (uint16_t)0, "");
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int r1_props_all_dns(sd_bus_message *reply, struct ds_r1 *r1, bool ex)
{
	int r = sd_bus_message_open_container(reply, 'a', ex ? "(iiayqs)" : "(iiay)");

	for (int i = 0; r >= 0 && i < r1->opts.nglobal_dns; i++)
		r = append_server_struct(reply, 0, true, &r1->opts.global_dns[i], "", ex);
	for (int l = 0; r >= 0 && l < DS_R1_MAX_LINKS; l++) {
		const struct ds_linkconf *lc = &r1->links[l].lc;

		if (!r1->links[l].used)
			continue;
		for (int i = 0; r >= 0 && i < lc->ndns && i < DS_LINK_MAX_DNS; i++)
			r = append_server_struct(reply, lc->ifindex, true, &lc->dns[i].addr,
						 lc->dns[i].server_name, ex);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int r1_props_all_domains(sd_bus_message *reply, struct ds_r1 *r1)
{
	int r = sd_bus_message_open_container(reply, 'a', "(isb)");

	for (int l = 0; r >= 0 && l < DS_R1_MAX_LINKS; l++) {
		const struct ds_linkconf *lc = &r1->links[l].lc;

		if (!r1->links[l].used)
			continue;
		for (int i = 0; r >= 0 && i < lc->ndomains && i < DS_LINK_MAX_DOMAINS; i++)
			r = sd_bus_message_append(reply, "(isb)", (int32_t)lc->ifindex,
						  lc->domains[i].name[0] ? lc->domains[i].name : ".",
						  (int)lc->domains[i].route_only);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* How /etc/resolv.conf is managed, in resolved's words: "stub" when it
 * is (a link to) the file dotstubd writes, "missing", else "foreign". */
const char *r1_props_resolv_conf_mode(const struct ds_r1 *r1)
{
	char target[PATH_MAX];
	ssize_t n;

	if (access("/etc/resolv.conf", F_OK) < 0)
		return "missing";
	if (!r1->opts.resolv_conf_out[0])
		return "foreign";
	n = readlink("/etc/resolv.conf", target, sizeof(target) - 1);
	if (n <= 0)
		return "foreign";
	target[n] = '\0';
	{
		char *real_link = realpath("/etc/resolv.conf", NULL);
		char *real_out = realpath(r1->opts.resolv_conf_out, NULL);
		bool same = real_link && real_out && !strcmp(real_link, real_out);

		free(real_link);
		free(real_out);
		return same || !strcmp(target, r1->opts.resolv_conf_out) ? "stub" : "foreign";
	}
}
