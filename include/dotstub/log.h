/*
 * log.h -- the one logging facility of dotstub.
 *
 * Levels are syslog's (LOG_ERR .. LOG_DEBUG).  Libraries log at LOG_DEBUG
 * only; the daemon decides what is worth a line above that.  Never log a
 * query name or a client address above LOG_DEBUG: this is a privacy tool.
 */
#ifndef DOTSTUB_LOG_H
#define DOTSTUB_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Set up logging.  to_stderr: write "LEVEL: message" lines to stderr (the
 * foreground daemon, tools, tests); otherwise syslog(3) with ident. */
void ds_log_init(const char *ident, int max_level, bool to_stderr);
void ds_log_set_level(int max_level);
int ds_log_level(void);
/* Parse "err", "warning", "notice", "info", "debug" or 0..7; -1 if unknown. */
int ds_log_parse_level(const char *s);
const char *ds_log_level_name(int level);

void ds_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line that a client could make repeat for every packet: at most one
 * per DS_LOG_RL_INTERVAL_MS.  The caller passes the monotonic clock. */
#define DS_LOG_RL_INTERVAL_MS 10000
struct ds_log_rl {
	unsigned long long next_ms;     /* no line before this */
	unsigned long long suppressed;  /* lines left out since the last one */
};
/* true: log the line now; *suppressed is how many were left out before it */
bool ds_log_rl_pass(struct ds_log_rl *rl, unsigned long long now_ms,
		    unsigned long long *suppressed);

#define log_err(...) ds_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...) ds_log(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) ds_log(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) ds_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                        \
	do {                                                                  \
		if (ds_log_level() >= LOG_DEBUG)                              \
			ds_log(LOG_DEBUG, __VA_ARGS__);                       \
	} while (0)

#endif
