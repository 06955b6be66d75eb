/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging. The sink and the format are chosen once, in main(); library code
 * only calls log_*(). JSON lines are {"level","msg","time"} as podman and
 * conmon expect from an OCI runtime's --log-format=json.
 */
#ifndef IGN_LOG_H
#define IGN_LOG_H

#include <stdio.h>

enum ign_log_level { IGN_LOG_ERR, IGN_LOG_WARN, IGN_LOG_INFO, IGN_LOG_DEBUG };
enum ign_log_format { IGN_LOG_TEXT, IGN_LOG_JSON };

/* prog: prefix for text lines; sink NULL means stderr. */
void ign_log_init(const char *prog, FILE *sink, enum ign_log_format fmt, enum ign_log_level max);
void ign_log(enum ign_log_level lvl, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ign_log_enabled(enum ign_log_level lvl);

#define log_err(...)   ign_log(IGN_LOG_ERR, 0, __VA_ARGS__)
#define log_warn(...)  ign_log(IGN_LOG_WARN, 0, __VA_ARGS__)
#define log_info(...)  ign_log(IGN_LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) ign_log(IGN_LOG_DEBUG, 0, __VA_ARGS__)
#define log_warn_errno(e, ...) ign_log(IGN_LOG_WARN, (e), __VA_ARGS__)

/*
 * At most `burst` lines per `per_sec` seconds from one call site; for things an
 * untrusted guest can trigger at will.
 */
#define log_ratelimited(lvl, ...)                                                       \
	do {                                                                           \
		static struct ign_ratelimit rl__ = { .burst = 10, .per_sec = 5 };          \
		if (ign_ratelimit_ok(&rl__))                                               \
			ign_log((lvl), 0, __VA_ARGS__);                                        \
	} while (0)

struct ign_ratelimit {
	unsigned burst, per_sec;
	unsigned long long window_start_ns;
	unsigned count;
};
int ign_ratelimit_ok(struct ign_ratelimit *rl);

#endif
