/* tcp_frame.c -- DNS-over-TCP framing of a client's input (tcp_frame.h). */
#include "tcp_frame.h"

#include <event2/buffer.h>

#include "dotstub/wire.h"

struct tcp_frame_result tcp_frame_run(struct evbuffer *in, bool was_partial,
				      const struct tcp_frame_ops *ops, void *arg, uint8_t *buf)
{
	struct tcp_frame_result r = { .rc = TCP_FRAME_EMPTY };

	for (;;) {
		uint8_t hdr[2];
		size_t have = evbuffer_get_length(in), mlen;

		if (have == 0) {
			r.rc = TCP_FRAME_EMPTY;
			return r;
		}
		if (!ops->may_take(arg)) {
			r.rc = TCP_FRAME_BLOCKED;
			return r;
		}
		if (have < 2) {
			r.rc = TCP_FRAME_PARTIAL;
			break;
		}
		evbuffer_copyout(in, hdr, 2);
		mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (mlen < DNS_HDR_LEN) {
			r.rc = TCP_FRAME_BAD;
			return r;
		}
		if (have < mlen + 2) {
			r.rc = TCP_FRAME_PARTIAL;
			break;
		}
		evbuffer_drain(in, 2);
		if (evbuffer_remove(in, buf, mlen) != (int)mlen) {
			r.rc = TCP_FRAME_BAD; /* cannot happen: the length was there */
			return r;
		}
		r.taken++;
		if (!ops->message(arg, buf, mlen)) {
			r.rc = TCP_FRAME_GONE;
			return r;
		}
	}
	r.new_partial = r.taken > 0 || !was_partial;
	return r;
}
