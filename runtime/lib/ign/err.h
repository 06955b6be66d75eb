/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one error pattern: fallible functions take `struct ign_err *err` last,
 * return 0 (or a value >= 0) on success and -errno on failure, and write
 * `err` only on failure. Only main() prints an error.
 */
#ifndef IGN_ERR_H
#define IGN_ERR_H

#define IGN_ERR_MSG_MAX 1024

struct ign_err {
	int code;                   /* positive errno, 0 when unset */
	char msg[IGN_ERR_MSG_MAX];  /* "context: context: cause" */
};

/* Sets err (if non-NULL) to "fmt...: strerror(code)" and returns -code. */
int ign_err_set(struct ign_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like ign_err_set() but without appending strerror(code). */
int ign_err_setx(struct ign_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes "fmt...: " to an error already set; returns -err->code. */
int ign_err_wrap(struct ign_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
