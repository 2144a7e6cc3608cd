/* log.c -- stderr or syslog output for dotstub (see include/dotstub/log.h). */
#include "dotstub/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_max = LOG_NOTICE;
static bool log_stderr = true;

static const char *const level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

void ds_log_init(const char *ident, int max_level, bool to_stderr)
{
	log_max = max_level;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void ds_log_set_level(int max_level) { log_max = max_level; }
int ds_log_level(void) { return log_max; }

const char *ds_log_level_name(int level)
{
	if (level < 0 || level > LOG_DEBUG)
		return "?";
	return level_names[level];
}

int ds_log_parse_level(const char *s)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "error") == 0)
		return LOG_ERR;
	if (strcmp(s, "warn") == 0)
		return LOG_WARNING;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	return -1;
}

void ds_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	if (log_stderr) {
		char msg[1024];
		struct timespec ts;
		struct tm tm;

		vsnprintf(msg, sizeof(msg), fmt, ap);
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour,
			tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
			ds_log_level_name(level), msg);
	} else {
		vsyslog(level, fmt, ap);
	}
	va_end(ap);
}

bool ds_log_rl_pass(struct ds_log_rl *rl, unsigned long long now_ms,
		    unsigned long long *suppressed)
{
	if (rl->next_ms != 0 && now_ms < rl->next_ms) {
		rl->suppressed++;
		return false;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->next_ms = now_ms + DS_LOG_RL_INTERVAL_MS;
	if (rl->next_ms == 0)
		rl->next_ms = 1;
	return true;
}
