/*
 * jsonw.c -- the JSON writer of the status serialiser (jsonw.h).
 */
#include "jsonw.h"

#include <event2/buffer.h>

#include "dotstub/jsonstr.h"

#include "daemon.h"

void ds_json_str(struct evbuffer *out, const char *s)
{
	char e[8];
	size_t n;

	evbuffer_add(out, "\"", 1);
	for (; *s; s++) {
		n = ds_json_escape((unsigned char)*s, e);
		evbuffer_add(out, e, n);
	}
	evbuffer_add(out, "\"", 1);
}

void ds_jw_init(struct ds_jw *w, struct evbuffer *out)
{
	*w = (struct ds_jw){ .out = out };
}

/* the separator and key before a value */
static void value_start(struct ds_jw *w, const char *key)
{
	if (w->nonempty[w->depth])
		evbuffer_add(w->out, ", ", 2);
	w->nonempty[w->depth] = true;
	if (key) {
		ds_json_str(w->out, key);
		evbuffer_add(w->out, ": ", 2);
	}
}

static void jw_open(struct ds_jw *w, const char *key, char ch)
{
	value_start(w, key);
	evbuffer_add(w->out, &ch, 1);
	/* the status is 4 levels deep; beyond the bound the output stays
	 * well nested, only the commas of the deepest levels would be off */
	if (w->depth < DS_JW_MAX_DEPTH)
		w->depth++;
	w->nonempty[w->depth] = false;
}

static void jw_close(struct ds_jw *w, char ch)
{
	evbuffer_add(w->out, &ch, 1);
	if (w->depth > 0)
		w->depth--;
}

void ds_jw_obj_begin(struct ds_jw *w, const char *key)
{
	jw_open(w, key, '{');
}

void ds_jw_obj_end(struct ds_jw *w)
{
	jw_close(w, '}');
}

void ds_jw_arr_begin(struct ds_jw *w, const char *key)
{
	jw_open(w, key, '[');
}

void ds_jw_arr_end(struct ds_jw *w)
{
	jw_close(w, ']');
}

void ds_jw_str(struct ds_jw *w, const char *key, const char *s)
{
	value_start(w, key);
	ds_json_str(w->out, s ? s : "");
}

void ds_jw_u64(struct ds_jw *w, const char *key, uint64_t v)
{
	value_start(w, key);
	evbuffer_add_printf(w->out, "%llu", (unsigned long long)v);
}

void ds_jw_bool(struct ds_jw *w, const char *key, bool b)
{
	value_start(w, key);
	evbuffer_add_printf(w->out, "%s", b ? "true" : "false");
}

void ds_jw_null(struct ds_jw *w, const char *key)
{
	value_start(w, key);
	evbuffer_add(w->out, "null", 4);
}
