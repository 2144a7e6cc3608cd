/*
 * fuzz_tcp_framing.c -- a DNS-over-TCP client's byte stream through the
 * listener's framing (stub/daemon/tcp_frame.c, the code listener.c runs):
 * the stream arrives in chunks of any size, the client's limits (queries in
 * flight, output buffered) block and release at any point, and every
 * message taken must be exactly the next one of the stream as an
 * independent reading of it frames them, taken only while the limits
 * allow, with nothing lost or taken twice; the partial-message clock starts
 * once per message.
 *
 * Input: octet 0 the in-flight limit (1..8), octet 1 the output limit in
 * units of 256 octets (1..256), octets 2-3 a seed for chunk sizes and the
 * handler's choices; the rest is the stream.
 */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "dotstub/wire.h"
#include "fuzz_target.h"
#include "tcp_frame.h"

struct model {
	const uint8_t *stream;
	size_t n;
	size_t next;          /* where the next message starts in the stream */
	unsigned inflight, max_inflight;
	size_t out, max_out;
	uint32_t rng;
	unsigned msgs;
};

static uint8_t buf[DNS_MSG_MAX];

static uint32_t rnd(struct model *m)
{
	m->rng = m->rng * 1103515245u + 12345u;
	return m->rng >> 8;
}

static bool may_take(void *arg)
{
	struct model *m = arg;

	return m->inflight < m->max_inflight && m->out < m->max_out;
}

static bool message(void *arg, const uint8_t *msg, size_t len)
{
	struct model *m = arg;
	size_t want;

	if (!may_take(m))
		abort(); /* taken past a limit */
	if (len < DNS_HDR_LEN || len > DNS_MSG_MAX || m->next + 2 > m->n)
		abort();
	want = (size_t)m->stream[m->next] << 8 | m->stream[m->next + 1];
	if (len != want || m->next + 2 + len > m->n ||
	    memcmp(msg, m->stream + m->next + 2, len) != 0)
		abort(); /* not the stream's next message */
	m->next += 2 + len;
	m->msgs++;
	switch (rnd(m) % 4) {
	case 0:
		m->inflight++; /* pending: answered later */
		break;
	case 1:
	case 2:
		m->out += len; /* answered now */
		break;
	default:
		break; /* dropped */
	}
	return m->msgs < 100000;
}

/* answers come back, the client reads: limits release */
static void release(struct model *m)
{
	if (m->inflight)
		m->inflight -= rnd(m) % (m->inflight + 1);
	if (m->out)
		m->out -= rnd(m) % (m->out + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_frame_ops ops = { .may_take = may_take, .message = message };
	struct model m = { 0 };
	struct evbuffer *in;
	size_t fed = 0;
	bool partial = false;

	if (size < 4)
		return 0;
	m.max_inflight = 1 + data[0] % 8;
	m.max_out = 256 * (1 + (size_t)data[1]);
	m.rng = (uint32_t)data[2] << 8 | data[3];
	m.stream = data + 4;
	m.n = size - 4;
	in = evbuffer_new();
	if (!in)
		abort();
	for (unsigned round = 0; round < 100000; round++) {
		struct tcp_frame_result r;
		size_t chunk = 0, left, need;

		if (fed < m.n) {
			chunk = 1 + rnd(&m) % 300;
			if (chunk > m.n - fed)
				chunk = m.n - fed;
			evbuffer_add(in, m.stream + fed, chunk);
			fed += chunk;
		}
		r = tcp_frame_run(in, partial, &ops, &m, buf);
		left = evbuffer_get_length(in);
		/* what was taken and what is left is exactly what was fed */
		if (r.rc != TCP_FRAME_GONE && m.next + left != fed)
			abort();
		need = left >= 2 ? 2 + ((size_t)m.stream[m.next] << 8 | m.stream[m.next + 1]) : 2;
		switch (r.rc) {
		case TCP_FRAME_EMPTY:
			if (left != 0 || r.new_partial)
				abort();
			partial = false;
			break;
		case TCP_FRAME_PARTIAL:
			if (left == 0 || left >= need || !may_take(&m) ||
			    r.new_partial != (r.taken > 0 || !partial))
				abort();
			partial = true;
			break;
		case TCP_FRAME_BLOCKED:
			if (left == 0 || may_take(&m) || r.new_partial)
				abort();
			partial = false;
			break;
		case TCP_FRAME_BAD:
			if (left < 2 || need - 2 >= DNS_HDR_LEN)
				abort();
			goto out;
		case TCP_FRAME_GONE:
			goto out;
		}
		if (fed == m.n && r.rc != TCP_FRAME_BLOCKED)
			break; /* all of it is in; the rest waits for bytes that never come */
		release(&m);
	}
out:
	evbuffer_free(in);
	return 0;
}
