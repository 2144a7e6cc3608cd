/*
 * jsonw.h -- a small JSON writer onto an evbuffer: objects, arrays,
 * strings (escaped by ds_json_str), unsigned numbers, booleans, null.
 * Commas are placed by the writer.  Inside an object every value has a
 * key; inside an array and at the top, key is NULL.  One line, ", " and
 * ": " as separators.
 */
#ifndef DOTSTUB_JSONW_H
#define DOTSTUB_JSONW_H

#include <stdbool.h>
#include <stdint.h>

struct evbuffer;

#define DS_JW_MAX_DEPTH 16

struct ds_jw {
	struct evbuffer *out;
	int depth;
	bool nonempty[DS_JW_MAX_DEPTH + 1];  /* a value was written at this level */
};

/* s as a JSON string (quoted; control characters and non-ASCII escaped) */
void ds_json_str(struct evbuffer *out, const char *s);

void ds_jw_init(struct ds_jw *w, struct evbuffer *out);
void ds_jw_obj_begin(struct ds_jw *w, const char *key);
void ds_jw_obj_end(struct ds_jw *w);
void ds_jw_arr_begin(struct ds_jw *w, const char *key);
void ds_jw_arr_end(struct ds_jw *w);
void ds_jw_str(struct ds_jw *w, const char *key, const char *s);
void ds_jw_u64(struct ds_jw *w, const char *key, uint64_t v);
void ds_jw_bool(struct ds_jw *w, const char *key, bool b);
void ds_jw_null(struct ds_jw *w, const char *key);

#endif
