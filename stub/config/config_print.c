/*
 * config_print.c -- the configuration in force, as `dotstubd -n -v` prints
 * it (dotstub/config.h, ds_config_print): every key with its value, in the
 * configuration file's own syntax.
 */
#include "dotstub/config.h"

#include <stdio.h>

#include "dotstub/acl.h"
#include "dotstub/log.h"
#include "dotstub/sockaddr.h"

static void print_dot(const struct ds_serve_dot_config *s, FILE *f)
{
	char buf[64];

	for (int i = 0; i < s->naddr; i++) {
		ds_sockaddr_format(&s->addr[i], buf, sizeof(buf));
		fprintf(f, "serve-dot %s\n", buf);
	}
	if (s->cert[0])
		fprintf(f, "serve-dot-cert %s\nserve-dot-key %s\n", s->cert, s->key);
	if (s->name[0])
		fprintf(f, "serve-dot-name %s\n", s->name);
	fprintf(f, "dot-clients %u\n", s->clients);
	fprintf(f, "dot-clients-per-address %u\n", s->clients_per_address);
	fprintf(f, "dot-client-output %zu\n", s->client_output);
	fprintf(f, "dot-output-total %zu\n", s->output_total);
	fprintf(f, "dot-client-inflight %u\n", s->client_inflight);
	fprintf(f, "dot-idle-timeout %u\n", s->idle_timeout_ms);
	fprintf(f, "dot-handshake-timeout %u\n", s->handshake_timeout_ms);
}

void ds_config_print(const struct ds_config *c, FILE *f)
{
	char buf[DS_TLSA_DATA_MAX * 2 + 32];

	for (int i = 0; i < c->nlisten; i++) {
		ds_sockaddr_format(&c->listen[i], buf, sizeof(buf));
		fprintf(f, "listen %s\n", buf);
	}
	for (int i = 0; i < c->naccess_control; i++)
		fprintf(f, "access-control %s\n",
			ds_acl_rule_format(&c->access_control[i], buf, sizeof(buf)));
	for (int i = 0; i < c->upstream.naddr; i++) {
		ds_sockaddr_format(&c->upstream.addr[i], buf, sizeof(buf));
		fprintf(f, "upstream %s@%s\n", c->upstream.name, buf);
	}
	for (int i = 0; i < c->upstream.ntlsa; i++) {
		ds_tlsa_format(&c->upstream.tlsa[i], buf, sizeof(buf));
		fprintf(f, "tlsa \"%s\"\n", buf);
	}
	fprintf(f, "allow-tls12 %s\n", c->allow_tls12 ? "yes" : "no");
	fprintf(f, "cache-size %zu\n", c->cache_bytes);
	fprintf(f, "control %s\n", c->control_path);
	if (c->resolv_conf_out[0])
		fprintf(f, "resolv-conf-out %s\n", c->resolv_conf_out);
	fprintf(f, "state-dir %s\n", c->state_dir);
	if (c->user[0])
		fprintf(f, "user %s\n", c->user);
	fprintf(f, "seccomp %s\n", c->seccomp ? "yes" : "no");
	fprintf(f, "log-level %s\n", ds_log_level_name(c->log_level));
	fprintf(f, "tcp-clients %u\n", c->max_tcp_clients);
	fprintf(f, "tcp-clients-per-address %u\n", c->tcp_clients_per_address);
	fprintf(f, "tcp-client-output %zu\n", c->tcp_client_output);
	fprintf(f, "tcp-output-total %zu\n", c->tcp_output_total);
	fprintf(f, "max-pending %u\n", c->max_client_pending);
	fprintf(f, "query-timeout %u\n", c->query_timeout_ms);
	for (int i = 0; i < c->nnetwork_resolver; i++) {
		ds_sockaddr_format(&c->network_resolver[i], buf, sizeof(buf));
		fprintf(f, "network-resolver %s\n", buf);
	}
	if (c->resolv_source[0])
		fprintf(f, "resolv-source %s\n", c->resolv_source);
	if (c->resolv_source_link[0])
		fprintf(f, "resolv-source-link %s\n", c->resolv_source_link);
	fprintf(f, "networkd %s\n", c->networkd == DS_NETWORKD_YES  ? "yes"
				    : c->networkd == DS_NETWORKD_NO ? "no"
								    : "auto");
	fprintf(f, "anchors-dir %s\n", c->anchors_dir);
	fprintf(f, "tofu %s\n", trust_tofu_name(c->tofu));
	fprintf(f, "unknown-network %s\n",
		trust_unknown_mode_name(c->unknown_network));
	fprintf(f, "prefer-upstream-resolver %s\n", c->prefer_upstream_resolver ? "yes" : "no");
	fprintf(f, "ddr %s\n", c->ddr ? "yes" : "no");
	fprintf(f, "dnr %s\n", c->dnr ? "yes" : "no");
	fprintf(f, "dnr-ra %s\n", c->dnr_ra ? "yes" : "no");
	if (c->ca_file[0])
		fprintf(f, "ca-file %s\n", c->ca_file);
	fprintf(f, "publish %s\n", c->publish ? "yes" : "no");
	fprintf(f, "discovery-wait %u\n", c->discovery_wait_ms);
	fprintf(f, "rfc5011-hold-down %u\n", c->rfc5011_hold_down_s);
	fprintf(f, "refresh-interval %u\n", c->refresh_interval_s);
	fprintf(f, "resolve1 %s\n", c->resolve1 ? "yes" : "no");
	if (c->resolve1_group[0])
		fprintf(f, "resolve1-group %s\n", c->resolve1_group);
	fprintf(f, "dbus-max-calls %u\n", c->dbus_max_calls);
	print_dot(&c->dot, f);
}
