/*
 * near.h - the known word nearest a misspelled one ("schedulee" ->
 * "schedule", "http_prot" -> "http_port"), so that a refusal can say what
 * was probably meant.  Pure: no allocation, no I/O.
 */
#ifndef CHR_COMMON_NEAR_H
#define CHR_COMMON_NEAR_H

#include <stddef.h>

/* Words further than this many edits are not suggested. */
#define CHR_NEAR_EDITS_MAX 2

/* The edit distance (insertions, deletions, substitutions) of a and b,
 * capped at CHR_NEAR_EDITS_MAX + 1; words of 63 bytes or more count as far. */
size_t chr_near_distance(const char *a, const char *b);

/* The first of words[0..n) nearest `word` within CHR_NEAR_EDITS_MAX edits,
 * or NULL.  Returns one of `words` (borrowed). */
const char *chr_near_word(const char *word, const char *const *words, size_t n);

#endif
