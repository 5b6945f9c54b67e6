/*
 * near.c - the nearest known word (near.h): a Levenshtein distance on one
 * row, over words short enough for a stack row.
 */
#include "common/near.h"

#include <string.h>

#define ROW_MAX 64

size_t chr_near_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[ROW_MAX];
    if (la >= ROW_MAX - 1 || lb >= ROW_MAX - 1)
        return CHR_NEAR_EDITS_MAX + 1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = diag + (a[i - 1] != b[j - 1]);
            size_t ins = row[j - 1] + 1, del = up + 1;
            row[j] = sub < ins ? (sub < del ? sub : del) : (ins < del ? ins : del);
            diag = up;
        }
    }
    return row[lb] <= CHR_NEAR_EDITS_MAX ? row[lb] : CHR_NEAR_EDITS_MAX + 1;
}

const char *chr_near_word(const char *word, const char *const *words, size_t n)
{
    const char *best = NULL;
    size_t d = CHR_NEAR_EDITS_MAX + 1;
    for (size_t i = 0; i < n; i++) {
        size_t k = chr_near_distance(word, words[i]);
        if (k < d) {
            d = k;
            best = words[i];
        }
    }
    return best;
}
