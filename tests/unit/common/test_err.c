// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ign/err.h"
#include "ign/fdio.h"

Test(err, set_appends_cause_and_returns_negative_errno)
{
	struct ign_err err = { 0 };

	cr_assert_eq(ign_err_set(&err, ENOENT, "open `%s`", "x"), -ENOENT);
	cr_assert_str_eq(err.msg, "open `x`: No such file or directory");
	cr_assert_eq(err.code, ENOENT);
	cr_assert_eq(ign_err_setx(&err, EINVAL, "bad %d", 7), -EINVAL);
	cr_assert_str_eq(err.msg, "bad 7");
}

Test(err, wrap_prefixes_context)
{
	struct ign_err err = { 0 };

	ign_err_setx(&err, EINVAL, "inner");
	cr_assert_eq(ign_err_wrap(&err, "outer %s", "ctx"), -EINVAL);
	cr_assert_str_eq(err.msg, "outer ctx: inner");
}

Test(err, null_err_still_returns_code)
{
	cr_assert_eq(ign_err_set(NULL, EIO, "x"), -EIO);
	cr_assert_eq(ign_err_setx(NULL, 0, "x"), -EINVAL);
}

Test(fdio, read_file_limits_and_errors)
{
	struct ign_err err = { 0 };
	char *buf = NULL;
	size_t len;

	cr_assert_lt(ign_read_file("/nonexistent/file", 100, &buf, &len, &err), 0);
	cr_assert(strstr(err.msg, "/nonexistent/file"), "%s", err.msg);
	cr_assert_lt(ign_read_file("/proc", 100, &buf, &len, &err), 0);
	cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
	cr_assert_eq(ign_read_file("/etc/hostname", 4096, &buf, &len, &err), 0, "%s", err.msg);
	cr_assert_eq(buf[len], '\0');
	free(buf);
	cr_assert_lt(ign_read_file("/etc/hostname", 1, &buf, &len, &err), 0);
	cr_assert(strstr(err.msg, "too large"), "%s", err.msg);
}
