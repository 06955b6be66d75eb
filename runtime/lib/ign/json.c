// SPDX-License-Identifier: Apache-2.0
/*
 * The only file that knows libyajl. A `struct ign_json *` is a yajl_val.
 * yajl_gen reports misuse (a key where a value is due, unbalanced maps)
 * through its status codes; the generator remembers the first failure and
 * ign_jgen_finish() returns NULL for such a document.
 */
#include "ign/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define NODE(n) ((yajl_val)(n))

int ign_json_parse(const char *text, struct ign_json **out, struct ign_err *err)
{
	char msg[512] = "";
	yajl_val v = yajl_tree_parse(text, msg, sizeof(msg));

	if (!v) {
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		return ign_err_setx(err, EINVAL, "invalid JSON: %s", msg[0] ? msg : "parse error");
	}
	*out = (struct ign_json *)v;
	return 0;
}

void ign_json_free(struct ign_json *root)
{
	yajl_tree_free(NODE(root));
}

enum ign_json_type ign_json_type(const struct ign_json *node)
{
	yajl_val v = NODE(node);

	if (!v || YAJL_IS_NULL(v))
		return IGN_JSON_NULL;
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return IGN_JSON_BOOL;
	if (YAJL_IS_NUMBER(v))
		return IGN_JSON_NUMBER;
	if (YAJL_IS_STRING(v))
		return IGN_JSON_STRING;
	if (YAJL_IS_ARRAY(v))
		return IGN_JSON_ARRAY;
	return IGN_JSON_OBJECT;
}

const struct ign_json *ign_json_member(const struct ign_json *obj, const char *key)
{
	yajl_val v = NODE(obj);

	if (!v || !YAJL_IS_OBJECT(v))
		return NULL;
	for (size_t i = 0; i < v->u.object.len; i++)
		if (strcmp(v->u.object.keys[i], key) == 0)
			return (const struct ign_json *)v->u.object.values[i];
	return NULL;
}

size_t ign_json_len(const struct ign_json *node)
{
	yajl_val v = NODE(node);

	if (v && YAJL_IS_ARRAY(v))
		return v->u.array.len;
	if (v && YAJL_IS_OBJECT(v))
		return v->u.object.len;
	return 0;
}

const struct ign_json *ign_json_index(const struct ign_json *arr, size_t i)
{
	yajl_val v = NODE(arr);

	if (v && YAJL_IS_ARRAY(v) && i < v->u.array.len)
		return (const struct ign_json *)v->u.array.values[i];
	if (v && YAJL_IS_OBJECT(v) && i < v->u.object.len)
		return (const struct ign_json *)v->u.object.values[i];
	return NULL;
}

const char *ign_json_key_at(const struct ign_json *obj, size_t i)
{
	yajl_val v = NODE(obj);

	if (v && YAJL_IS_OBJECT(v) && i < v->u.object.len)
		return v->u.object.keys[i];
	return NULL;
}

static const char *const type_names[] = {
	"null", "boolean", "number", "string", "array", "object",
};

static int json_expect(const struct ign_json *node, const char *path, enum ign_json_type want,
		       struct ign_err *err)
{
	if (!node)
		return ign_err_setx(err, ENOENT, "%s: missing", path);
	enum ign_json_type t = ign_json_type(node);
	if (t != want)
		return ign_err_setx(err, EINVAL, "%s: expected %s, got %s", path,
				    type_names[want], type_names[t]);
	return 0;
}

int ign_json_string(const struct ign_json *node, const char *path, const char **out,
		    struct ign_err *err)
{
	int r = json_expect(node, path, IGN_JSON_STRING, err);

	if (r < 0)
		return r;
	*out = NODE(node)->u.string;
	return 0;
}

int ign_json_int64(const struct ign_json *node, const char *path, int64_t *out,
		   struct ign_err *err)
{
	int r = json_expect(node, path, IGN_JSON_NUMBER, err);

	if (r < 0)
		return r;
	if (!YAJL_IS_INTEGER(NODE(node)))
		return ign_err_setx(err, EINVAL, "%s: expected an integer", path);
	*out = YAJL_GET_INTEGER(NODE(node));
	return 0;
}

int ign_json_bool(const struct ign_json *node, const char *path, int *out, struct ign_err *err)
{
	int r = json_expect(node, path, IGN_JSON_BOOL, err);

	if (r < 0)
		return r;
	*out = YAJL_IS_TRUE(NODE(node));
	return 0;
}

struct ign_jgen {
	yajl_gen g;
	int failed;
};

struct ign_jgen *ign_jgen_new(void)
{
	struct ign_jgen *jg = calloc(1, sizeof(*jg));

	if (!jg)
		return NULL;
	jg->g = yajl_gen_alloc(NULL);
	if (!jg->g) {
		free(jg);
		return NULL;
	}
	return jg;
}

struct ign_jgen *ign_jgen_new_pretty(void)
{
	struct ign_jgen *jg = ign_jgen_new();

	if (jg) {
		yajl_gen_config(jg->g, yajl_gen_beautify, 1);
		yajl_gen_config(jg->g, yajl_gen_indent_string, "  ");
	}
	return jg;
}

void ign_jgen_free(struct ign_jgen *g)
{
	if (!g)
		return;
	yajl_gen_free(g->g);
	free(g);
}

static void jgen_check(struct ign_jgen *g, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		g->failed = 1;
}

void ign_jgen_map_open(struct ign_jgen *g) { jgen_check(g, yajl_gen_map_open(g->g)); }
void ign_jgen_map_close(struct ign_jgen *g) { jgen_check(g, yajl_gen_map_close(g->g)); }
void ign_jgen_array_open(struct ign_jgen *g) { jgen_check(g, yajl_gen_array_open(g->g)); }
void ign_jgen_array_close(struct ign_jgen *g) { jgen_check(g, yajl_gen_array_close(g->g)); }
void ign_jgen_int(struct ign_jgen *g, long long v) { jgen_check(g, yajl_gen_integer(g->g, v)); }
void ign_jgen_bool(struct ign_jgen *g, int v) { jgen_check(g, yajl_gen_bool(g->g, v)); }
void ign_jgen_null(struct ign_jgen *g) { jgen_check(g, yajl_gen_null(g->g)); }

void ign_jgen_string(struct ign_jgen *g, const char *s)
{
	jgen_check(g, yajl_gen_string(g->g, (const unsigned char *)s, strlen(s)));
}

void ign_jgen_node(struct ign_jgen *g, const struct ign_json *node)
{
	yajl_val v = NODE(node);

	if (!v || YAJL_IS_NULL(v)) {
		ign_jgen_null(g);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		ign_jgen_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_INTEGER(v)) {
		ign_jgen_int(g, YAJL_GET_INTEGER(v));
	} else if (YAJL_IS_NUMBER(v)) {
		jgen_check(g, yajl_gen_double(g->g, YAJL_GET_DOUBLE(v)));
	} else if (YAJL_IS_STRING(v)) {
		ign_jgen_string(g, YAJL_GET_STRING(v));
	} else if (YAJL_IS_ARRAY(v)) {
		ign_jgen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			ign_jgen_node(g, (const struct ign_json *)v->u.array.values[i]);
		ign_jgen_array_close(g);
	} else {
		ign_jgen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			ign_jgen_string(g, v->u.object.keys[i]);
			ign_jgen_node(g, (const struct ign_json *)v->u.object.values[i]);
		}
		ign_jgen_map_close(g);
	}
}

char *ign_jgen_finish(struct ign_jgen *g)
{
	const unsigned char *buf;
	size_t len;

	if (g->failed || yajl_gen_get_buf(g->g, &buf, &len) != yajl_gen_status_ok)
		return NULL;
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	memcpy(out, buf, len);
	out[len] = '\0';
	return out;
}

char *ign_json_object3(const char *k1, const char *v1, const char *k2, const char *v2,
		       const char *k3, const char *v3)
{
	struct ign_jgen *g = ign_jgen_new();

	if (!g)
		return NULL;
	ign_jgen_map_open(g);
	ign_jgen_string(g, k1);
	ign_jgen_string(g, v1);
	ign_jgen_string(g, k2);
	ign_jgen_string(g, v2);
	ign_jgen_string(g, k3);
	ign_jgen_string(g, v3);
	ign_jgen_map_close(g);
	char *out = ign_jgen_finish(g);
	ign_jgen_free(g);
	return out;
}
