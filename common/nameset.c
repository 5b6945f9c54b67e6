/*
 * nameset.c - the compact name set of nameset.h.  Offsets, not pointers, so
 * the names' buffer can grow by realloc and be compacted; the hash kept in
 * each slot makes probes and regrowth read no name but the one compared.
 */
#include "common/nameset.h"

#include <string.h>

#include "common/alloc.h"
#include "common/strmap.h"

/* Deleted bytes are reclaimed past this much, when they outweigh the live. */
#define NAMESET_COMPACT_MIN 65536

static const char *name_at(const struct chr_nameset *s, const struct chr_nameset_slot *e)
{
    return s->bytes + e->off1 - 1;
}

/* The slot of `name`, or the empty slot where it would go (cap > 0). */
static size_t probe(const struct chr_nameset *s, const char *name, uint32_t h)
{
    size_t mask = s->cap - 1, i = h & mask;
    while (s->slot[i].off1 != 0 &&
           (s->slot[i].hash != h || strcmp(name_at(s, &s->slot[i]), name) != 0))
        i = (i + 1) & mask;
    return i;
}

bool chr_nameset_has(const struct chr_nameset *s, const char *name)
{
    return s->cap > 0 && s->slot[probe(s, name, chr_str_hash32(name, strlen(name)))].off1 != 0;
}

/* Puts e into the first empty slot from its home in `slot` (cap). */
static void place(struct chr_nameset_slot *slot, size_t cap, struct chr_nameset_slot e)
{
    size_t i = e.hash & (cap - 1);
    while (slot[i].off1 != 0)
        i = (i + 1) & (cap - 1);
    slot[i] = e;
}

static enum chr_err grow_table(struct chr_nameset *s)
{
    if ((s->len + 1) * 4 <= s->cap * 3)
        return CHR_OK;
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct chr_nameset_slot *slot = chr_calloc(cap, sizeof *slot);
    if (slot == NULL)
        return CHR_ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i].off1 != 0)
            place(slot, cap, s->slot[i]);
    chr_free(s->slot);
    s->slot = slot;
    s->cap = cap;
    return CHR_OK;
}

/* Room for n more bytes of names; offsets must stay below UINT32_MAX. */
static enum chr_err grow_bytes(struct chr_nameset *s, size_t n)
{
    if (s->used + n <= s->room)
        return CHR_OK;
    size_t room = s->room ? s->room : 4096;
    while (room < s->used + n)
        room *= 2;
    if (room >= UINT32_MAX)
        return CHR_ENOMEM;
    char *bytes = chr_realloc(s->bytes, room);
    if (bytes == NULL)
        return CHR_ENOMEM;
    s->bytes = bytes;
    s->room = room;
    return CHR_OK;
}

enum chr_err chr_nameset_add(struct chr_nameset *s, const char *name)
{
    size_t n = strnlen(name, CHR_NAMESET_NAME_MAX + 1);
    if (n > CHR_NAMESET_NAME_MAX)
        return CHR_EINVAL;
    uint32_t h = chr_str_hash32(name, n);
    if (s->cap > 0 && s->slot[probe(s, name, h)].off1 != 0)
        return CHR_OK;
    enum chr_err e = grow_table(s);
    if (e == CHR_OK)
        e = grow_bytes(s, n + 1);
    if (e != CHR_OK)
        return e;
    memcpy(s->bytes + s->used, name, n + 1);
    place(s->slot, s->cap, (struct chr_nameset_slot){(uint32_t)s->used + 1, h});
    s->used += n + 1;
    s->len++;
    return CHR_OK;
}

/* Copies the live names into a new buffer, in slot order; put off (the
 * set stays valid) when it cannot allocate. */
static void compact(struct chr_nameset *s)
{
    size_t live = s->used - s->dead;
    char *bytes = chr_malloc(live > 0 ? live : 1);
    if (bytes == NULL)
        return;
    size_t at = 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slot[i].off1 == 0)
            continue;
        const char *name = name_at(s, &s->slot[i]);
        size_t n = strlen(name) + 1;
        memcpy(bytes + at, name, n);
        s->slot[i].off1 = (uint32_t)at + 1;
        at += n;
    }
    chr_free(s->bytes);
    s->bytes = bytes;
    s->used = s->room = live;
    s->dead = 0;
}

bool chr_nameset_del(struct chr_nameset *s, const char *name)
{
    if (s->cap == 0)
        return false;
    size_t mask = s->cap - 1, i = probe(s, name, chr_str_hash32(name, strlen(name)));
    if (s->slot[i].off1 == 0)
        return false;
    s->dead += strlen(name_at(s, &s->slot[i])) + 1;
    for (size_t j = (i + 1) & mask; s->slot[j].off1 != 0; j = (j + 1) & mask) {
        size_t home = s->slot[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) { /* home not in (i, j] */
            s->slot[i] = s->slot[j];
            i = j;
        }
    }
    s->slot[i].off1 = 0;
    s->len--;
    if (s->dead > NAMESET_COMPACT_MIN && s->dead > s->used - s->dead)
        compact(s);
    return true;
}

void chr_nameset_free(struct chr_nameset *s)
{
    chr_free(s->slot);
    chr_free(s->bytes);
    memset(s, 0, sizeof *s);
}
