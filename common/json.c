/*
 * json.c - jansson text into memory of ours (see json.h).
 */
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

char *chr_json_dump(json_t *v, size_t *len)
{
    if (v == NULL)
        return NULL;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (text == NULL)
        return NULL;
    size_t n = strlen(text);
    char *out = chr_strndup(text, n);
    free(text); /* lint: allow (jansson's allocation) */
    if (out != NULL && len != NULL)
        *len = n;
    return out;
}
