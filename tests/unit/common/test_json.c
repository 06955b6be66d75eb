// SPDX-License-Identifier: Apache-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ign/json.h"

Test(json, parses_and_reads_typed_values)
{
	struct ign_json *root = NULL;
	struct ign_err err = { 0 };
	const char *s;
	int64_t n;
	int b;

	cr_assert_eq(ign_json_parse("{\"a\":\"x\",\"n\":42,\"t\":true,\"arr\":[1,2]}", &root, &err),
		     0, "%s", err.msg);
	cr_assert_eq(ign_json_string(ign_json_member(root, "a"), "a", &s, &err), 0);
	cr_assert_str_eq(s, "x");
	cr_assert_eq(ign_json_int64(ign_json_member(root, "n"), "n", &n, &err), 0);
	cr_assert_eq(n, 42);
	cr_assert_eq(ign_json_bool(ign_json_member(root, "t"), "t", &b, &err), 0);
	cr_assert_eq(b, 1);
	const struct ign_json *arr = ign_json_member(root, "arr");
	cr_assert_eq(ign_json_type(arr), IGN_JSON_ARRAY);
	cr_assert_eq(ign_json_len(arr), 2);
	cr_assert_eq(ign_json_int64(ign_json_index(arr, 1), "arr[1]", &n, &err), 0);
	cr_assert_eq(n, 2);
	cr_assert_null(ign_json_index(arr, 2));
	cr_assert_str_eq(ign_json_key_at(root, 1), "n");
	ign_json_free(root);
}

Test(json, errors_name_the_path)
{
	struct ign_json *root = NULL;
	struct ign_err err = { 0 };
	const char *s;

	cr_assert_eq(ign_json_parse("{\"process\":{\"args\":[1]}}", &root, &err), 0);
	const struct ign_json *args = ign_json_member(ign_json_member(root, "process"), "args");
	cr_assert_lt(ign_json_string(ign_json_index(args, 0), "process.args[0]", &s, &err), 0);
	cr_assert_str_eq(err.msg, "process.args[0]: expected string, got number");
	cr_assert_eq(ign_json_string(ign_json_member(root, "root"), "root", &s, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "root: missing");
	ign_json_free(root);
}

Test(json, malformed_input_is_an_error)
{
	struct ign_json *root = NULL;
	struct ign_err err = { 0 };

	cr_assert_lt(ign_json_parse("{\"a\": [1, 2}", &root, &err), 0);
	cr_assert(strncmp(err.msg, "invalid JSON: ", 14) == 0, "%s", err.msg);
	cr_assert_null(strchr(err.msg, '\n'), "one line");
	cr_assert_lt(ign_json_parse("", &root, &err), 0);
}

Test(json, generator_escapes_and_balances)
{
	struct ign_jgen *g = ign_jgen_new();

	ign_jgen_map_open(g);
	ign_jgen_string(g, "msg");
	ign_jgen_string(g, "say \"hi\"\n");
	ign_jgen_string(g, "n");
	ign_jgen_int(g, -3);
	ign_jgen_string(g, "l");
	ign_jgen_array_open(g);
	ign_jgen_bool(g, 0);
	ign_jgen_null(g);
	ign_jgen_array_close(g);
	ign_jgen_map_close(g);
	char *out = ign_jgen_finish(g);
	cr_assert_str_eq(out, "{\"msg\":\"say \\\"hi\\\"\\n\",\"n\":-3,\"l\":[false,null]}");
	free(out);
	ign_jgen_free(g);

	g = ign_jgen_new();
	ign_jgen_map_open(g);
	ign_jgen_int(g, 1);  /* a number where a key is due */
	cr_assert_null(ign_jgen_finish(g));
	ign_jgen_free(g);
}

Test(json, object3_for_log_lines)
{
	char *s = ign_json_object3("level", "error", "msg", "a\tb", "time", "t");

	cr_assert_str_eq(s, "{\"level\":\"error\",\"msg\":\"a\\tb\",\"time\":\"t\"}");
	free(s);
}
