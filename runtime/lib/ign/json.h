/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON, behind one small API so the library under it (libyajl) can be swapped.
 * Nothing outside json.c includes a yajl header.
 *
 * Reading: parse into a tree, then look values up with typed getters that
 * report errors by JSON path ("process.args[2]: expected a string").
 * Writing: a generator that emits one compact document.
 */
#ifndef IGN_JSON_H
#define IGN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "ign/err.h"

struct ign_json;  /* a node of a parsed tree (opaque) */
struct ign_jgen;  /* a generator (opaque) */

enum ign_json_type {
	IGN_JSON_NULL, IGN_JSON_BOOL, IGN_JSON_NUMBER, IGN_JSON_STRING,
	IGN_JSON_ARRAY, IGN_JSON_OBJECT,
};

int ign_json_parse(const char *text, struct ign_json **out, struct ign_err *err);
void ign_json_free(struct ign_json *root);
static inline void ign_cleanup_json(struct ign_json **p)
{
	if (*p)
		ign_json_free(*p);
}
#define cleanup_json __attribute__((cleanup(ign_cleanup_json)))

enum ign_json_type ign_json_type(const struct ign_json *node);
/* Member `key` of an object, or NULL if absent or node is not an object. */
const struct ign_json *ign_json_member(const struct ign_json *obj, const char *key);
size_t ign_json_len(const struct ign_json *node);  /* array or object size */
const struct ign_json *ign_json_index(const struct ign_json *arr, size_t i);
const char *ign_json_key_at(const struct ign_json *obj, size_t i);

/*
 * Typed reads. `path` names the node in messages. A NULL node is "missing":
 * these return -ENOENT with "path: missing"; a wrong type gives -EINVAL.
 */
int ign_json_string(const struct ign_json *node, const char *path, const char **out,
		    struct ign_err *err);
int ign_json_int64(const struct ign_json *node, const char *path, int64_t *out,
		   struct ign_err *err);
int ign_json_bool(const struct ign_json *node, const char *path, int *out, struct ign_err *err);

struct ign_jgen *ign_jgen_new(void);
struct ign_jgen *ign_jgen_new_pretty(void);  /* indented, for people (runc's `state`) */
void ign_jgen_free(struct ign_jgen *g);
void ign_jgen_map_open(struct ign_jgen *g);
void ign_jgen_map_close(struct ign_jgen *g);
void ign_jgen_array_open(struct ign_jgen *g);
void ign_jgen_array_close(struct ign_jgen *g);
void ign_jgen_string(struct ign_jgen *g, const char *s);
void ign_jgen_int(struct ign_jgen *g, long long v);
void ign_jgen_bool(struct ign_jgen *g, int v);
void ign_jgen_null(struct ign_jgen *g);
/* A copy of a parsed value (and everything under it). */
void ign_jgen_node(struct ign_jgen *g, const struct ign_json *node);
/* Returns a malloc'd copy of the document, or NULL if it is incomplete or invalid. */
char *ign_jgen_finish(struct ign_jgen *g);

/* {"k1":"v1","k2":"v2","k3":"v3"}, malloc'd; for log lines. */
char *ign_json_object3(const char *k1, const char *v1, const char *k2, const char *v2,
		       const char *k3, const char *v3);

#endif
