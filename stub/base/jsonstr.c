/* jsonstr.c -- strings in JSON (see dotstub/jsonstr.h). */
#include "dotstub/jsonstr.h"

size_t ds_json_escape(unsigned char c, char out[8])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		out[0] = '\\', out[1] = (char)c, out[2] = '\0';
		return 2;
	}
	if (c < 0x20 || c > 0x7e) {
		out[0] = '\\', out[1] = 'u', out[2] = '0', out[3] = '0';
		out[4] = hex[c >> 4], out[5] = hex[c & 15], out[6] = '\0';
		return 6;
	}
	out[0] = (char)c, out[1] = '\0';
	return 1;
}

void ds_json_fputs(FILE *f, const char *s)
{
	char e[8];

	fputc('"', f);
	for (; *s; s++) {
		ds_json_escape((unsigned char)*s, e);
		fputs(e, f);
	}
	fputc('"', f);
}
