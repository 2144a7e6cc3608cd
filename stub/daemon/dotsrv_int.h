/*
 * dotsrv_int.h -- the parts of the DoT server (dotsrv.h) that its two
 * files share: the server with its listeners and limits across clients
 * (dotsrv.c), and one client's connection (dotsrv_conn.c).  The
 * connection never calls into dotsrv.c: it reports through the server's
 * data and its events (resume_ev, budget_ev).
 */
#ifndef DOTSTUB_DOTSRV_INT_H
#define DOTSTUB_DOTSRV_INT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "connpool.h"
#include "dotsrv.h"

/* A message must be complete this long after its first octet arrived. */
#define DOT_MSG_TIMEOUT_MS 3000
/* What an answer in flight counts for at least against dot-client-output */
#define DOT_ANSWER_FLOOR 512
/* Decrypted input held before it is framed: a whole message and a read */
#define DOT_IN_MAX (2 + DNS_MSG_MAX + 16384)
/* One SSL_write (a TLS record holds 16 KiB) */
#define DOT_WRITE_MAX 16384
/* SSL_read calls per event before the other clients get their turn */
#define DOT_READS_PER_EVENT 32

/* Why a connection is closed: each has its own log line (rate-limited). */
enum dot_why {
	W_HANDSHAKE_TIMEOUT,
	W_HANDSHAKE_FAILED,
	W_TLS_ERROR,
	W_NOT_DNS,
	W_MSG_TIMEOUT,
	W_OUTPUT_STUCK,
	W_OUTPUT_OVER,
	W_LIMIT,
	W_IDLE,      /* not logged: normal */
	W_GONE,      /* the client went away: not logged */
	W_N
};

struct dot_listener {
	struct ds_dotsrv *s;
	struct ds_pool_gate gate;
	struct sockaddr_storage addr;
	bool accepting;           /* gate.ev added (after ds_dotsrv_start) */
};

enum dot_state { DOT_HANDSHAKE, DOT_OPEN };

struct ds_dot_client {
	struct ds_dotsrv *s;
	struct dot_listener *l;   /* accepted on it */
	int fd;
	SSL *ssl;
	enum dot_state state;
	struct event *rev, *wev;  /* readable, writable */
	struct event *timer;      /* handshake, message, idle and output timeouts */
	struct event *run_ev;     /* run the connection from the loop */
	struct evbuffer *in;      /* decrypted, not framed yet */
	struct evbuffer *out;     /* framed answers not given to SSL_write yet */
	size_t wretry;            /* an SSL_write to repeat with this length */
	struct ds_request_list reqs;
	struct ds_pool_client pc;  /* peer, queries in flight, progress (output
				      written); pc.dead: closed while in_run,
				      freed when it unwinds */
	size_t answer_max;        /* the largest answer sent to it (with framing) */
	uint64_t partial_ms;      /* when the incomplete message began */
	uint64_t deadline_ms;     /* the timer's, 0: not armed */
	bool eof;                 /* the client closed its side */
	bool blocked;             /* a limit held input back (tcp_frame_run) */
	bool partial;             /* the input ends in an incomplete message */
	bool over;                /* to be closed: output over twice dot-client-output */
	bool refused;             /* access-control: every query gets REFUSED */
	bool want_write;          /* SSL wants the socket writable */
	bool reading;             /* rev is added */
	bool writing;             /* wev is added */
	bool in_run;              /* dotsrv_conn_run is on the stack */
};

struct ds_dotsrv {
	struct ds_daemon *d;
	SSL_CTX *ctx;             /* NULL until started */
	struct dotsrv_tickets *tickets;
	struct dotsrv_id id;
	struct dotsrv_id_stamp stamp; /* the certificate file id was loaded from */
	struct dotsrv_id_info info;
	struct dot_listener *l[DS_MAX_SERVE_DOT];
	int n;
	/* a reload being prepared: the listeners it is to have (new ones
	 * bound, kept ones shared with l[]) and its context */
	struct dot_listener *next_l[DS_MAX_SERVE_DOT];
	bool next_opened[DS_MAX_SERVE_DOT];
	int next_n;
	SSL_CTX *next_ctx;
	struct dotsrv_id next_id;
	struct dotsrv_id_stamp next_stamp;
	bool prepared;
	struct ds_pool clients;
	unsigned handshaking;
	size_t out_total;         /* output buffered for all clients */
	struct event *budget_ev;  /* out_total is over dot-output-total */
	struct event *resume_ev;  /* a client closed or went idle: accepting
				     may resume */
	struct event *hourly;     /* ticket keys rotate, the certificate renews */
	struct ds_dotsrv_status cnt; /* the counters of the status */
	struct ds_log_rl rl[W_N];
	struct ds_log_rl held_rl;
	uint8_t rbuf[DOT_WRITE_MAX + 5]; /* SSL_read's */
	uint8_t inbuf[DNS_MSG_MAX];      /* tcp_frame_run's */
	uint8_t scratch[DNS_MSG_MAX];    /* answers made while taking a query */
	uint8_t reply[DNS_MSG_MAX];      /* answers of pending queries, padded */
};

static inline const struct ds_serve_dot_config *dotsrv_limits(const struct ds_dotsrv *s)
{
	return &s->d->cfg->dot;
}

/* ---- dotsrv_conn.c: one client's connection ---- */

/* A connection accepted on l from peer (fd is its socket, now the
 * connection's), among the server's clients; NULL if out of memory (fd is
 * left to the caller).  dotsrv_conn_run starts its handshake. */
struct ds_dot_client *dotsrv_conn_new(struct dot_listener *l, int fd,
				      const struct sockaddr_storage *peer, socklen_t peerlen);
/* Everything the connection can do now (see dotsrv_conn.c). */
void dotsrv_conn_run(struct ds_dot_client *c);
/* Close it, saying why (detail: more of it, or NULL); counted and, for
 * the reasons worth it, logged (rate-limited). */
void dotsrv_conn_close(struct ds_dot_client *c, enum dot_why why, const char *detail);
/* Free it at once, without a word: its pending queries are cancelled. */
void dotsrv_conn_free(struct ds_dot_client *c);
/* Octets of answers buffered for it. */
size_t dotsrv_conn_output(const struct ds_dot_client *c);

#endif
