/*
 * tcp_frame.h -- the framing of a DNS-over-TCP client's input (RFC 1035
 * 4.2.2, RFC 7766): two octets of length, then the message.  The listener
 * (listen_tcp.c) runs every client's input through tcp_frame_run, and so does
 * the fuzz target tests/fuzz/fuzz_tcp_framing.c.
 */
#ifndef DOTSTUB_TCP_FRAME_H
#define DOTSTUB_TCP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

enum tcp_frame_rc {
	TCP_FRAME_EMPTY,    /* nothing left: the client is between messages */
	TCP_FRAME_PARTIAL,  /* part of a message is there: wait for the rest */
	TCP_FRAME_BLOCKED,  /* a limit holds (ops->may_take): the rest stays */
	TCP_FRAME_BAD,      /* a length shorter than a DNS header: not DNS */
	TCP_FRAME_GONE,     /* ops->message closed the connection */
};

struct tcp_frame_ops {
	/* May one more message be taken now (queries in flight, output
	 * buffered)?  Asked before each message. */
	bool (*may_take)(void *arg);
	/* One complete message of len octets (DNS_HDR_LEN..DNS_MSG_MAX),
	 * already removed from the input.  false: the connection is gone
	 * (the input buffer with it); the framer touches nothing more. */
	bool (*message)(void *arg, const uint8_t *msg, size_t len);
};

struct tcp_frame_result {
	enum tcp_frame_rc rc;
	unsigned taken;       /* messages handed to ops->message */
	/* rc is TCP_FRAME_PARTIAL and that message began after the last
	 * call's: its clock (the incomplete-message timeout) starts now */
	bool new_partial;
};

/* Take the complete messages of in, one by one, while ops->may_take
 * allows.  was_partial: the last call returned TCP_FRAME_PARTIAL (and no
 * byte was taken since).  buf (DNS_MSG_MAX octets) holds each message
 * while ops->message runs. */
struct tcp_frame_result tcp_frame_run(struct evbuffer *in, bool was_partial,
				      const struct tcp_frame_ops *ops, void *arg, uint8_t *buf);

#endif
