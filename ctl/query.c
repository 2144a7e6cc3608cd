/*
 * query.c -- `dotctl query NAME [TYPE]`: the query in wire form for the
 * daemon's "query HEX" control request, and its answer (the daemon's JSON:
 * the answer in wire form, rcode, EDE, the path that answered, the
 * network) rendered as text or as JSON.  The daemon's answer is parsed as
 * untrusted: the strict JSON parser, then ldns for the DNS message.
 */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
/* stdbool.h first: without it ldns defines bool as signed char */
#include <stdbool.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dotstub/ctlproto.h"
#include "dotstub/hex.h"
#include "dotstub/wire.h"
#include "json.h"

/* "A", "aaaa", "TYPE65", "28": 1..65535, or -EINVAL */
static int parse_type(const char *s)
{
	char *end;
	unsigned long v;
	ldns_rr_type t;

	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		v = strtoul(s, &end, 10);
		return errno || *end || v == 0 || v > 65535 ? -EINVAL : (int)v;
	}
	t = ldns_get_rr_type_by_name(s);
	return t == 0 ? -EINVAL : (int)t;
}

int ctl_query_request(const char *name, const char *type, char *line, size_t cap, char *err,
		      size_t errlen)
{
	uint8_t qname[DNS_NAME_MAX], pkt[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	struct dns_writer w;
	uint16_t id = 0;
	int qlen, qtype;

	qtype = parse_type(type ? type : "A");
	if (qtype < 0) {
		snprintf(err, errlen, "'%s' is not a type (a number, or A, AAAA, MX, TXT, ...)", type);
		return -EINVAL;
	}
	qlen = dns_name_from_str(name, qname);
	if (qlen < 0 || !name[0]) {
		snprintf(err, errlen, "'%s' is not a domain name", name);
		return -EINVAL;
	}
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)rand();
	dns_writer_init(&w, pkt, sizeof(pkt));
	dns_write_u16(&w, id);
	dns_write_u16(&w, DNS_FLAG_RD | DNS_FLAG_AD);
	dns_write_u16(&w, 1); /* QDCOUNT */
	dns_write_u16(&w, 0);
	dns_write_u16(&w, 0);
	dns_write_u16(&w, 1); /* ARCOUNT: the OPT, so that an EDE can come back */
	dns_write_name(&w, qname, (size_t)qlen);
	dns_write_u16(&w, (uint16_t)qtype);
	dns_write_u16(&w, DNS_CLASS_IN);
	dns_write_u8(&w, 0);
	dns_write_u16(&w, DNS_TYPE_OPT);
	dns_write_u16(&w, DNS_EDNS_UDP_SIZE);
	dns_write_u32(&w, 0);
	dns_write_u16(&w, 0);
	if (w.err || cap < 7 + 2 * w.len) {
		snprintf(err, errlen, "the query does not fit");
		return -E2BIG;
	}
	memcpy(line, "query ", 6);
	ds_hex_encode(pkt, w.len, line + 6);
	return 0;
}

/* ---------------------------------------------------------------- answer */

struct query_view {
	const char *path;
	uint64_t rcode;
	bool has_ede;
	uint64_t ede_code;
	const char *ede_text;
	const char *up_name, *up_addr, *up_tlsa, *up_auth;
	const char *net_id, *net_if;
	const char *link_if;          /* NULL: an older daemon */
	uint64_t link_index;
	bool link_default;
	ldns_pkt *pkt;
};

static const char *rcode_name(uint64_t rc)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL",
					     "NXDOMAIN", "NOTIMP", "REFUSED" };

	return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "RCODE";
}

static bool get_obj_str(struct cj_value *obj, const char *key, const char **out)
{
	return obj && obj->type == CJ_OBJECT && cj_get_str(obj, key, out);
}

static int view_parse(struct cj_value *root, struct query_view *v, char *err, size_t errlen)
{
	struct cj_value *ede, *up, *net, *link;
	const char *hex;
	uint8_t *wire;
	size_t hl;
	ldns_status st;

	memset(v, 0, sizeof(*v));
	if (!root || root->type != CJ_OBJECT || !cj_get_str(root, "path", &v->path) ||
	    !cj_get_u64(root, "rcode", &v->rcode) || !cj_get_str(root, "answer", &hex)) {
		snprintf(err, errlen, "missing path, rcode or answer");
		return -EINVAL;
	}
	ede = cj_get(root, "ede");
	if (ede && ede->type == CJ_OBJECT) {
		v->has_ede = cj_get_u64(ede, "code", &v->ede_code) &&
			     cj_get_str(ede, "text", &v->ede_text);
	}
	up = cj_get(root, "upstream");
	if (!get_obj_str(up, "name", &v->up_name) || !get_obj_str(up, "address", &v->up_addr) ||
	    !get_obj_str(up, "tlsa", &v->up_tlsa))
		v->up_name = v->up_addr = v->up_tlsa = NULL;
	if (!get_obj_str(up, "auth", &v->up_auth))
		v->up_auth = "dane";
	net = cj_get(root, "network");
	if (!get_obj_str(net, "id", &v->net_id) || !get_obj_str(net, "interface", &v->net_if))
		v->net_id = v->net_if = NULL;
	link = cj_get(root, "link");
	if (!get_obj_str(link, "interface", &v->link_if) ||
	    !cj_get_u64(link, "ifindex", &v->link_index))
		v->link_if = NULL;
	else
		cj_get_bool(link, "default", &v->link_default);
	hl = strlen(hex);
	if (hl % 2 || hl / 2 > DNS_MSG_MAX || !(wire = malloc(hl / 2 + 1))) {
		snprintf(err, errlen, "the answer is not a DNS message in hex");
		return -EINVAL;
	}
	if (ds_hex_decode(hex, hl, wire, hl / 2) < 0 ||
	    (st = ldns_wire2pkt(&v->pkt, wire, hl / 2)) != LDNS_STATUS_OK) {
		free(wire);
		snprintf(err, errlen, "the answer is not a DNS message");
		return -EINVAL;
	}
	free(wire);
	return 0;
}

/* "answered by" in words */
static void path_text(const struct query_view *v, char *out, size_t outlen)
{
	if (v->rcode == DNS_RCODE_SERVFAIL || !strcmp(v->path, "none")) {
		if (v->has_ede)
			snprintf(out, outlen, "no answer: %s (EDE %llu: %s)", rcode_name(v->rcode),
				 (unsigned long long)v->ede_code, v->ede_text);
		else
			snprintf(out, outlen, "no answer: %s", rcode_name(v->rcode));
	} else if (!strcmp(v->path, "dot") && v->up_name && !strcmp(v->up_auth, "pkix")) {
		snprintf(out, outlen, "DoT to %s (%s, certificate verified (PKIX))", v->up_name,
			 v->up_addr);
	} else if (!strcmp(v->path, "dot") && v->up_name) {
		snprintf(out, outlen, "DoT to %s (%s, DANE TLSA %s)", v->up_name, v->up_addr,
			 v->up_tlsa[0] ? v->up_tlsa : "?");
	} else if (!strcmp(v->path, "dot-unauthenticated") && v->up_name) {
		snprintf(out, outlen, "DoT to %s (%s), unauthenticated (opportunistic)", v->up_name,
			 v->up_addr);
	} else if (!strcmp(v->path, "plain") && v->up_addr) {
		snprintf(out, outlen, "plain DNS to %s (opportunistic, unauthenticated)", v->up_addr);
	} else if (!strcmp(v->path, "cache")) {
		snprintf(out, outlen, "cache");
	} else if (!strcmp(v->path, "local")) {
		snprintf(out, outlen, "local (localhost / resolver.arpa)");
	} else {
		snprintf(out, outlen, "%s", v->path);
	}
}

static void flags_text(const ldns_pkt *p, char *out, size_t outlen)
{
	snprintf(out, outlen, "qr%s%s%s%s", ldns_pkt_rd(p) ? " rd" : "", ldns_pkt_ra(p) ? " ra" : "",
		 ldns_pkt_ad(p) ? " ad" : "", ldns_pkt_tc(p) ? " tc" : "");
}

/* A record's presentation form, one line, without the final newline
 * (malloc'd, or NULL). */
static char *rr_text(const ldns_rr *rr)
{
	char *s = ldns_rr2str_fmt(ldns_output_format_nocomments, rr);
	size_t n;

	if (s && (n = strlen(s)) > 0 && s[n - 1] == '\n')
		s[n - 1] = '\0';
	return s;
}

static void json_put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void render_text(FILE *f, const struct query_view *v)
{
	ldns_rr_list *ans = ldns_pkt_answer(v->pkt);
	char buf[1024], fl[32];

	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		char *s = rr_text(ldns_rr_list_rr(ans, i));

		if (s)
			fprintf(f, "%s\n", s);
		free(s);
	}
	flags_text(v->pkt, fl, sizeof(fl));
	fprintf(f, "rcode:       %s (flags: %s)\n", rcode_name(v->rcode), fl);
	if (v->has_ede)
		fprintf(f, "EDE:         %llu (%s)\n", (unsigned long long)v->ede_code, v->ede_text);
	path_text(v, buf, sizeof(buf));
	fprintf(f, "answered by: %s\n", buf);
	if (v->link_if)
		fprintf(f, "link:        %s%s%.0" PRIu64 "%s%s\n",
			v->link_if[0] ? v->link_if : "(none)", v->link_index ? " (" : "",
			v->link_index, v->link_index ? ")" : "",
			v->link_default ? ", the default link" : ", by its domain");
	if (v->net_id)
		fprintf(f, "network:     %s%s%s\n", v->net_id[0] ? v->net_id : "(none)",
			v->net_if[0] ? " on " : "", v->net_if);
	else
		fprintf(f, "network:     (a static upstream)\n");
}

static void render_json(FILE *f, const struct query_view *v)
{
	ldns_rr_list *ans = ldns_pkt_answer(v->pkt);
	ldns_rr_list *q = ldns_pkt_question(v->pkt);
	char buf[1024], fl[32], *s;

	fputs("{\"question\":", f);
	if (q && ldns_rr_list_rr_count(q) == 1) {
		s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(q, 0)));
		fputs("{\"name\":", f);
		json_put_str(f, s);
		free(s);
		s = ldns_rr_type2str(ldns_rr_get_type(ldns_rr_list_rr(q, 0)));
		fputs(",\"type\":", f);
		json_put_str(f, s);
		free(s);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"rcode\":", f);
	json_put_str(f, rcode_name(v->rcode));
	flags_text(v->pkt, fl, sizeof(fl));
	fputs(",\"flags\":", f);
	json_put_str(f, fl);
	fputs(",\"answer\":[", f);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		s = rr_text(ldns_rr_list_rr(ans, i));
		if (i)
			fputc(',', f);
		json_put_str(f, s ? s : "");
		free(s);
	}
	fputs("],\"ede\":", f);
	if (v->has_ede) {
		fprintf(f, "{\"code\":%llu,\"text\":", (unsigned long long)v->ede_code);
		json_put_str(f, v->ede_text);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"path\":", f);
	json_put_str(f, v->rcode == DNS_RCODE_SERVFAIL ? "none" : v->path);
	path_text(v, buf, sizeof(buf));
	fputs(",\"answered_by\":", f);
	json_put_str(f, buf);
	fputs(",\"upstream\":", f);
	if (v->up_addr) {
		fputs("{\"name\":", f);
		json_put_str(f, v->up_name);
		fputs(",\"address\":", f);
		json_put_str(f, v->up_addr);
		fputs(",\"tlsa\":", f);
		json_put_str(f, v->up_tlsa);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"link\":", f);
	if (v->link_if) {
		fputs("{\"interface\":", f);
		json_put_str(f, v->link_if);
		fprintf(f, ",\"ifindex\":%" PRIu64 ",\"default\":%s}", v->link_index,
			v->link_default ? "true" : "false");
	} else {
		fputs("null", f);
	}
	fputs(",\"network\":", f);
	if (v->net_id) {
		fputs("{\"id\":", f);
		json_put_str(f, v->net_id);
		fputs(",\"interface\":", f);
		json_put_str(f, v->net_if);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs("}\n", f);
}

int ctl_query_render(FILE *f, const char *text, size_t len, bool json, char *err, size_t errlen)
{
	struct query_view v;
	struct cj_value *root = cj_parse(text, len, err, errlen);
	int r;

	if (!root)
		return -EINVAL;
	r = view_parse(root, &v, err, errlen);
	if (r == 0) {
		if (json)
			render_json(f, &v);
		else
			render_text(f, &v);
		r = v.rcode == DNS_RCODE_SERVFAIL ? 1 : 0;
		ldns_pkt_free(v.pkt);
	}
	cj_free(root);
	return r;
}
