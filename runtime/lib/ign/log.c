// SPDX-License-Identifier: Apache-2.0
#include "ign/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "ign/json.h"

static const char *log_prog = "ign";
static FILE *log_sink;
static enum ign_log_format log_fmt = IGN_LOG_TEXT;
static enum ign_log_level log_max = IGN_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void ign_log_init(const char *prog, FILE *sink, enum ign_log_format fmt, enum ign_log_level max)
{
	log_prog = prog;
	log_sink = sink;
	log_fmt = fmt;
	log_max = max;
}

int ign_log_enabled(enum ign_log_level lvl)
{
	return lvl <= log_max;
}

static void log_json(FILE *f, enum ign_log_level lvl, const char *msg)
{
	char stamp[64];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%09ldZ", ts.tv_nsec);

	char *line = ign_json_object3("level", level_names[lvl], "msg", msg, "time", stamp);
	if (line) {
		fprintf(f, "%s\n", line);
		free(line);
	}
}

void ign_log(enum ign_log_level lvl, int errnum, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));

	FILE *f = log_sink ? log_sink : stderr;
	pthread_mutex_lock(&log_lock);
	if (log_fmt == IGN_LOG_JSON)
		log_json(f, lvl, msg);
	else if (lvl == IGN_LOG_ERR)
		fprintf(f, "%s: %s\n", log_prog, msg);
	else
		fprintf(f, "%s: %s: %s\n", log_prog, level_names[lvl], msg);
	fflush(f);
	pthread_mutex_unlock(&log_lock);
}

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int ign_ratelimit_ok(struct ign_ratelimit *rl)
{
	unsigned long long now = mono_ns();

	if (now - rl->window_start_ns > rl->per_sec * 1000000000ULL) {
		rl->window_start_ns = now;
		rl->count = 0;
	}
	return rl->count++ < rl->burst;
}
