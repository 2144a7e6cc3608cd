/*
 * walk_print.c -- a walk's result as text (for people) or JSON (for tools
 * and `dotctl status`).  Every string in a result is printable ASCII
 * already; JSON strings are escaped all the same.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "walk_int.h"

#include "dotstub/hex.h"
#include "dotstub/jsonstr.h"
#include "dotstub/sockaddr.h"

#define TLSA_STR_MAX (DS_TLSA_DATA_MAX * 2 + 16)

void
disc_step_print(const struct disc_step *s, FILE *f)
{
	char t[16];

	fprintf(f, "step %d  %-46s %-6s  %-11s %s\n", s->phase, s->name,
		disc_type_str(s->type, t, sizeof(t)), disc_status_str(s->status), s->detail);
}

/* Lower-case hex of k's SHA-256 into out; on failure *err gets -ENOMEM
 * and out is empty. */
static void
key_digest_hex(const struct trust_dnskey *k, char out[2 * TRUST_SHA256_LEN + 1], int *err)
{
	uint8_t sha[TRUST_SHA256_LEN];

	if (trust_dnskey_sha256(k, sha) < 0) {
		*err = -ENOMEM;
		out[0] = '\0';
		return;
	}
	ds_hex_encode(sha, sizeof(sha), out);
}

static void
text_key(FILE *f, const char *what, const char *owner, const struct trust_dnskey *k, int *err)
{
	char hex[2 * TRUST_SHA256_LEN + 1];

	key_digest_hex(k, hex, err);
	fprintf(f, "%s %s DNSKEY %u %u %u: tag %u alg %u sha256 %s\n", what, owner, k->flags,
		k->protocol, k->algorithm, trust_dnskey_tag(k), k->algorithm, hex);
}

static void
text_desc(FILE *f, const char *indent, const struct ds_upstream_desc *d)
{
	char buf[TLSA_STR_MAX];
	int i;

	for (i = 0; i < d->naddr; i++) {
		ds_sockaddr_format(&d->addr[i], buf, sizeof(buf));
		fprintf(f, "%saddress: %s\n", indent, buf);
	}
	for (i = 0; i < d->ntlsa; i++) {
		ds_tlsa_format(&d->tlsa[i], buf, sizeof(buf));
		fprintf(f, "%stlsa: %s\n", indent, buf);
	}
}

static const char *
ksk_role(const struct disc_result *r, int i)
{
	if (i != r->ksk_used)
		return r->ksk[i].validates ? "ksk (also validates):" : "ksk (seen):";
	if (!r->first_use)
		return "anchor (known):";
	return r->confirmed ? "anchor (first use, confirmed):" : "anchor (first use):";
}

static void
print_text(const struct disc_result *r, FILE *f, bool with_steps, int *err)
{
	char owner[DNS_NAME_MAX + 2];
	int i;

	if (with_steps) {
		for (i = 0; i < r->nsteps; i++)
			disc_step_print(&r->steps[i], f);
		if (r->steps_dropped)
			fprintf(f, "(%d more steps not recorded)\n", r->steps_dropped);
	}
	fprintf(f, "resolver: %s\n", r->resolver);
	fprintf(f, "result: %s\n", trust_discovery_name(r->kind));
	if (r->kind != TRUST_DISC_OK)
		fprintf(f, "reason: %s\n", r->reason);
	if (r->hijack[0])
		fprintf(f, "hijacking: %s\n", r->hijack);
	for (i = 0; i < r->nksk; i++) {
		const struct disc_ksk *k = &r->ksk[i];

		text_key(f, ksk_role(r, i), DISC_ZONE, &k->key, err);
	}
	if (r->nksk_seen > r->nksk)
		fprintf(f, "(%d more SEP keys not considered)\n", r->nksk_seen - r->nksk);
	if (r->anchor_matched >= 0)
		fprintf(f, "known anchor matched: #%d\n", r->anchor_matched);
	if (r->desc.name[0] == '\0')
		return;
	fprintf(f, "name: %s\n", r->desc.name);
	snprintf(owner, sizeof(owner), "%s.", r->desc.name);
	for (i = 0; i < r->nzone_key; i++)
		text_key(f, "zone key:", owner, &r->zone_key[i], err);
	if (r->desc.type != DS_SERVER_UNKNOWN)
		fprintf(f, "server type: %s\n", ds_server_type_name(r->desc.type));
	text_desc(f, "", &r->desc);
	if (r->transparent)
		fprintf(f, "transparent forwarder: publication describes %s, not %s\n",
			r->desc.name, r->resolver);
	for (i = 0; i < r->nupstreams; i++) {
		const struct disc_upstream *u = &r->upstreams[i];

		fprintf(f, "upstream: %s type %s transport %s\n", u->desc.name,
			ds_server_type_name(u->desc.type), ds_transport_name(u->desc.transport));
		snprintf(owner, sizeof(owner), "%s.", u->desc.name);
		if (u->has_key)
			text_key(f, "  key:", owner, &u->key, err);
		text_desc(f, "  ", &u->desc);
	}
	if (r->nupstreams_seen > r->nupstreams)
		fprintf(f, "(%d upstreams listed, %d read)\n", r->nupstreams_seen, r->nupstreams);
}

static void
json_key(FILE *f, const struct trust_dnskey *k, int *err)
{
	char hex[2 * TRUST_SHA256_LEN + 1];

	key_digest_hex(k, hex, err);
	fprintf(f, "{\"flags\":%u,\"protocol\":%u,\"algorithm\":%u,\"tag\":%u,\"sha256\":\"%s\"",
		k->flags, k->protocol, k->algorithm, trust_dnskey_tag(k), hex);
}

static void
json_desc(FILE *f, const struct ds_upstream_desc *d)
{
	char buf[TLSA_STR_MAX];
	int i;

	fprintf(f, "\"name\":");
	ds_json_fputs(f, d->name);
	fprintf(f, ",\"type\":\"%s\",\"addresses\":[", ds_server_type_name(d->type));
	for (i = 0; i < d->naddr; i++) {
		ds_sockaddr_format(&d->addr[i], buf, sizeof(buf));
		fprintf(f, "%s", i ? "," : "");
		ds_json_fputs(f, buf);
	}
	fprintf(f, "],\"tlsa\":[");
	for (i = 0; i < d->ntlsa; i++) {
		ds_tlsa_format(&d->tlsa[i], buf, sizeof(buf));
		fprintf(f, "%s", i ? "," : "");
		ds_json_fputs(f, buf);
	}
	fprintf(f, "]");
}

static void
json_steps(const struct disc_result *r, FILE *f)
{
	char t[16];
	int i;

	fprintf(f, ",\"steps\":[");
	for (i = 0; i < r->nsteps; i++) {
		const struct disc_step *s = &r->steps[i];

		fprintf(f, "%s{\"step\":%d,\"name\":", i ? "," : "", s->phase);
		ds_json_fputs(f, s->name);
		fprintf(f, ",\"type\":\"%s\",\"status\":\"%s\",\"detail\":",
			disc_type_str(s->type, t, sizeof(t)), disc_status_str(s->status));
		ds_json_fputs(f, s->detail);
		fprintf(f, "}");
	}
	fprintf(f, "]");
}

static void
print_json(const struct disc_result *r, FILE *f, bool with_steps, int *err)
{
	int i;

	fprintf(f, "{\"result\":\"%s\",\"failed_step\":%d,\"reason\":",
		trust_discovery_name(r->kind), r->failed_phase);
	ds_json_fputs(f, r->reason);
	fprintf(f, ",\"resolver\":");
	ds_json_fputs(f, r->resolver);
	if (with_steps)
		json_steps(r, f);
	fprintf(f, ",\"first_use\":%s,\"confirmed\":%s,\"anchor_matched\":%d,\"ksk\":[",
		r->first_use ? "true" : "false", r->confirmed ? "true" : "false",
		r->anchor_matched);
	for (i = 0; i < r->nksk; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_key(f, &r->ksk[i].key, err);
		fprintf(f, ",\"validates\":%s,\"used\":%s,\"known\":%d}",
			r->ksk[i].validates ? "true" : "false", i == r->ksk_used ? "true" : "false",
			r->ksk[i].known);
	}
	fprintf(f, "],\"ksk_seen\":%d,\"transparent\":%s,\"hijack\":", r->nksk_seen,
		r->transparent ? "true" : "false");
	ds_json_fputs(f, r->hijack);
	if (r->desc.name[0]) {
		fprintf(f, ",\"upstream\":{");
		json_desc(f, &r->desc);
		fprintf(f, ",\"zone_keys\":[");
		for (i = 0; i < r->nzone_key; i++) {
			fprintf(f, "%s", i ? "," : "");
			json_key(f, &r->zone_key[i], err);
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, ",\"upstreams\":[");
	for (i = 0; i < r->nupstreams; i++) {
		const struct disc_upstream *u = &r->upstreams[i];

		fprintf(f, "%s{", i ? "," : "");
		json_desc(f, &u->desc);
		fprintf(f, ",\"transport\":\"%s\",\"key\":", ds_transport_name(u->desc.transport));
		if (u->has_key) {
			json_key(f, &u->key, err);
			fprintf(f, "}");
		} else {
			fprintf(f, "null");
		}
		fprintf(f, "}");
	}
	fprintf(f, "],\"upstreams_seen\":%d}\n", r->nupstreams_seen);
}

int
disc_result_print(const struct disc_result *r, FILE *f, bool json, bool with_steps)
{
	int err = 0;

	if (json)
		print_json(r, f, with_steps, &err);
	else
		print_text(r, f, with_steps, &err);
	return ferror(f) ? -EIO : err;
}
