/*
 * constraint.c - job constraints compiled once (regexes with POSIX regcomp)
 * and evaluated against an offer's prepared attributes; the semantics are
 * in constraint.h.
 *
 * Regular expressions.  Chronos compiled a LIKE/UNLIKE value with Scala's
 * `value.r` (java.util.regex) and asked Matcher.matches(), a match of the
 * whole text.  Here the value is translated to a POSIX extended regular
 * expression, wrapped as ^(...)$ for the whole-text match, and compiled
 * with regcomp(REG_EXTENDED | REG_NOSUB).  What carries over as is:
 * literals, '.', '^', '$', '|', groups, '*', '+', '?', {m}, {m,}, {m,n},
 * bracket expressions with ranges and negation, escaped metacharacters.
 * What is translated: \d \D \s \S \w \W (to bracket expressions with Java's
 * ASCII sets), also inside brackets for \d \s \w; an escaped character
 * inside brackets (POSIX has no escapes there: the character itself goes
 * where POSIX wants it); lazy quantifiers (*? +? ?? {m,n}?) become greedy,
 * which matches the same whole texts.  What is refused at PUT, because
 * POSIX would read it otherwise or not at all: other backslash-letter or
 * backslash-digit escapes (\t, \x41, \p{L}, \Q..\E, \1 back-references),
 * '(?' constructs (non-capturing groups, look-around, inline flags),
 * possessive quantifiers (*+), '[' or '&&' inside brackets (Java nests and
 * intersects classes there; POSIX names classes), a '{' that is not a
 * repetition, unbalanced parentheses, and patterns whose bounded
 * repetitions expand too far (common/limits.h).  Differences that remain:
 * matching is by bytes (the server does not call setlocale), so '.' is one
 * byte of a multi-byte UTF-8 character where Java's is one UTF-16 unit;
 * Java's '.' does not match line terminators, which no attribute holds.
 *
 * Attributes.  A value's type is read from its text as the Mesos adapter
 * renders it (core.h): "{a,b}" a SET, "[1-10]" RANGES, a decimal number a
 * SCALAR, anything else TEXT.  A SCALAR is matched as Java's
 * Double.toString prints it, as Chronos matched it: the shortest decimal
 * that reads back as the same double, with at least one digit after the
 * point, in scientific notation ("1.0E7") outside [1e-3, 1e7).  (Java 8's
 * printer sometimes gave a longer form for doubles with many digits; Mesos
 * scalars have three decimals at most, where both agree.)
 *
 * No I/O, no clock, no threads; allocation through common/alloc.h.
 */
#include "scheduler/constraint.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/limits.h"
#include "common/utf8.h"

/* ---- Java regex to POSIX ERE ------------------------------------------- */

/* A bounded text buffer.  The translation cannot outgrow its buffers: an
 * input byte becomes at most RX_GROWTH output bytes (\W becomes 13), which
 * is asserted; so checking a pattern needs no allocation. */
#define RX_GROWTH 8
#define RX_OUT_MAX (CHR_CONSTRAINT_VALUE_MAX * RX_GROWTH + 16)

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    CHR_ASSERT(b->len + n < b->cap);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_ch(struct buf *b, char c)
{
    buf_put(b, &c, 1);
}

/* The translation's state: the output, and the expanded size of the
 * pattern per open group (its atoms, and those of the last atom or group,
 * which a repetition multiplies). */
struct rx {
    const char *p;    /* the pattern */
    size_t i;         /* where the scan is */
    struct buf out;
    uint32_t size[CHR_CONSTRAINT_REGEX_DEPTH_MAX + 1], last[CHR_CONSTRAINT_REGEX_DEPTH_MAX + 1];
    /* Per open group, whether it can match the empty text: its branch so far
     * before the last atom (seq), the last atom, a finished branch (alt). */
    bool seq_null[CHR_CONSTRAINT_REGEX_DEPTH_MAX + 1], last_null[CHR_CONSTRAINT_REGEX_DEPTH_MAX + 1],
        alt_null[CHR_CONSTRAINT_REGEX_DEPTH_MAX + 1];
    int depth;
    bool have_atom;   /* something precedes that a quantifier may repeat */
    bool after_quant; /* the previous token was a quantifier */
    const char *field;
    struct chr_error *err;
};

#define SIZE_CAP (CHR_CONSTRAINT_REGEX_SIZE_MAX + 1u)

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a + b > SIZE_CAP ? SIZE_CAP : a + b;
}

static uint32_t sat_mul(uint32_t a, uint32_t b)
{
    return (uint64_t)a * b > SIZE_CAP ? SIZE_CAP : a * b;
}

static enum chr_err rx_bad(struct rx *x, const char *what)
{
    char q[64];
    chr_error_quote(x->p, strlen(x->p), 40, q);
    return chr_error_set(x->err, CHR_EINVAL, x->field, "'%s': %s", q, what);
}

/* An atom of n expanded atoms (a group's: its size) that may match the
 * empty text or not (only a group may). */
static void rx_atom_null(struct rx *x, uint32_t n, bool nullable)
{
    int d = x->depth;
    x->size[d] = sat_add(x->size[d], n);
    x->last[d] = n;
    x->seq_null[d] = x->seq_null[d] && x->last_null[d];
    x->last_null[d] = nullable;
    x->have_atom = true;
    x->after_quant = false;
}

static void rx_atom(struct rx *x, uint32_t n)
{
    rx_atom_null(x, n, false);
}

/* A group (or the whole) starts: empty so far, which matches the empty text. */
static void rx_frame(struct rx *x)
{
    int d = x->depth;
    x->size[d] = x->last[d] = 0;
    x->seq_null[d] = x->last_null[d] = true;
    x->alt_null[d] = false;
}

/* Java's \d \s \w sets, the contents of a bracket expression. */
static const char *class_set(char c)
{
    switch (c) {
    case 'd': case 'D': return "0-9";
    case 's': case 'S': return " \t\n\v\f\r";
    case 'w': case 'W': return "A-Za-z0-9_";
    default: return NULL;
    }
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A bracket expression's members, put out in an order POSIX reads as
 * meant: ']' first, '[' late (so it starts no [:class:]), '^' not first,
 * '-' last. */
struct bracket {
    bool neg, rbracket, lbracket, caret, dash;
    struct buf body;
};

static void bracket_char(struct bracket *b, char c)
{
    if (c == ']')
        b->rbracket = true;
    else if (c == '[')
        b->lbracket = true;
    else if (c == '^')
        b->caret = true;
    else if (c == '-')
        b->dash = true;
    else
        buf_ch(&b->body, c);
}

/* A range lo-hi: both plain characters, none of the ones POSIX places. */
static enum chr_err bracket_range(struct rx *x, struct bracket *b, char lo)
{
    char hi = x->p[x->i + 1];
    if ((unsigned char)hi >= 0x80)
        return rx_bad(x, "non-ASCII characters: matching here is by bytes, not by "
                         "characters as in Java");
    if (hi == '\\' || hi == '[' || strchr("]^-", lo) != NULL || hi == '^' || hi == '-')
        return rx_bad(x, "a range in [...] must join two plain characters");
    if ((unsigned char)hi < (unsigned char)lo)
        return rx_bad(x, "a range in [...] runs backwards");
    char r[3] = {lo, '-', hi};
    buf_put(&b->body, r, 3);
    x->i += 2;
    return CHR_OK;
}

static void bracket_emit(struct rx *x, struct bracket *b)
{
    size_t n = b->body.len;
    const char *body = b->body.p;
    if (!b->neg && n == 0 && !b->rbracket && !b->lbracket && b->caret && !b->dash) {
        buf_str(&x->out, "\\^"); /* "[^]" would be a negation */
    } else {
        buf_str(&x->out, b->neg ? "[^" : "[");
        buf_str(&x->out, b->rbracket ? "]" : "");
        buf_str(&x->out, body);
        buf_str(&x->out, b->lbracket ? "[" : "");
        /* "[^-]" negates; "[-^]" is both characters. */
        bool first = n == 0 && !b->rbracket && !b->lbracket;
        buf_str(&x->out, first && b->dash ? "-" : "");
        buf_str(&x->out, b->caret ? "^" : "");
        buf_str(&x->out, !first && b->dash ? "-" : "");
        buf_ch(&x->out, ']');
    }
}

/* One member of [...] at x->i: a character, a range or a class. */
static enum chr_err bracket_member(struct rx *x, struct bracket *b, bool first)
{
    char c = x->p[x->i];
    if (c == '\0')
        return rx_bad(x, "unclosed '['");
    if ((unsigned char)c >= 0x80 || (unsigned char)x->p[x->i + 1] >= 0x80)
        return rx_bad(x, "non-ASCII characters: matching here is by bytes, not by "
                         "characters as in Java");
    if (c == ']' && first)
        return rx_bad(x, "'[]' is empty (write \\] for ']')");
    if (c == '[' || (c == '&' && x->p[x->i + 1] == '&'))
        return rx_bad(x, "'[' or '&&' inside [...] (Java nests and intersects classes there, "
                         "POSIX names classes)");
    if (c == '\\') {
        char e = x->p[x->i + 1];
        if (e == 'd' || e == 's' || e == 'w') {
            buf_str(&b->body, class_set(e));
            x->i += 2;
            return CHR_OK;
        }
        if (e == '\0')
            return rx_bad(x, "unclosed '['");
        if (is_alnum(e))
            return rx_bad(x, "inside [...] only \\d, \\s and \\w of Java's backslash letters "
                             "have a POSIX equivalent");
        c = e; /* an escaped character stands for itself */
        x->i++;
    }
    x->i++;
    if (x->p[x->i] == '-' && x->p[x->i + 1] != ']' && x->p[x->i + 1] != '\0')
        return bracket_range(x, b, c);
    bracket_char(b, c);
    return CHR_OK;
}

/* [...] from x->i (at '['). */
static enum chr_err rx_bracket(struct rx *x)
{
    char body[CHR_CONSTRAINT_VALUE_MAX * RX_GROWTH + 1] = "";
    struct bracket b = {.body = {body, 0, sizeof body}};
    x->i++;
    if (x->p[x->i] == '^') {
        b.neg = true;
        x->i++;
    }
    for (bool first = true; first || x->p[x->i] != ']'; first = false) {
        enum chr_err e = bracket_member(x, &b, first);
        if (e != CHR_OK)
            return e;
    }
    x->i++;
    bracket_emit(x, &b);
    rx_atom(x, 1);
    return CHR_OK;
}

/* A backslash outside brackets, at x->i. */
static enum chr_err rx_escape(struct rx *x)
{
    char e = x->p[x->i + 1];
    const char *set = class_set(e);
    if (e == '\0')
        return rx_bad(x, "ends with a lone backslash");
    if ((unsigned char)e >= 0x80)
        return rx_bad(x, "non-ASCII characters: matching here is by bytes, not by "
                         "characters as in Java");
    x->i += 2;
    if (set != NULL) {
        bool neg = e == 'D' || e == 'S' || e == 'W';
        buf_str(&x->out, neg ? "[^" : "[");
        buf_str(&x->out, set);
        buf_ch(&x->out, ']');
    } else if (e == 'b' || e == 'B') {
        buf_ch(&x->out, '\\'); /* word boundaries: glibc's ERE has them */
        buf_ch(&x->out, e);
        x->have_atom = x->after_quant = false;
        return CHR_OK;
    } else if (is_alnum(e)) {
        x->i -= 2;
        return rx_bad(x, "a backslash before a letter or digit other than d D s S w W b B is a "
                         "Java escape POSIX lacks (use the character or a bracket expression)");
    } else if (strchr(".[]()*+?{}|^$\\", e) != NULL) {
        buf_ch(&x->out, '\\');
        buf_ch(&x->out, e);
    } else {
        buf_ch(&x->out, e); /* POSIX leaves "\-" undefined: the character itself */
    }
    rx_atom(x, 1);
    return CHR_OK;
}

/* Reads the digits at x->i into *v (at most 3 digits' worth); false if none. */
static bool rx_count(struct rx *x, uint32_t *v)
{
    size_t start = x->i;
    *v = 0;
    while (x->p[x->i] >= '0' && x->p[x->i] <= '9' && x->i - start < 4)
        *v = *v * 10 + (uint32_t)(x->p[x->i++] - '0');
    return x->i > start;
}

/* A quantifier at x->i: * + ? or {m}, {m,}, {m,n}.  The repeated part's
 * size is multiplied by its largest count ({m,}: m + 1, the copies regcomp
 * makes). */
static enum chr_err rx_quantifier(struct rx *x)
{
    char c = x->p[x->i];
    if (x->after_quant && c == '?') { /* lazy: the same whole texts, greedy */
        x->i++;
        x->after_quant = false;
        x->have_atom = false;
        return CHR_OK;
    }
    if (x->after_quant)
        return rx_bad(x, c == '+' ? "possessive quantifiers (*+, ++, ?+) have no POSIX equivalent"
                                  : "a quantifier follows a quantifier");
    if (!x->have_atom)
        return rx_bad(x, "a quantifier has nothing to repeat");
    size_t start = x->i++;
    uint32_t m = 1, n = 1;
    if (c == '{') {
        bool ok = rx_count(x, &m), open = false;
        n = m;
        if (ok && x->p[x->i] == ',') {
            x->i++;
            open = x->p[x->i] == '}';
            ok = open || rx_count(x, &n);
        }
        if (!ok || x->p[x->i] != '}' || m > 255 || n > 255 || n < m)
            return rx_bad(x, "'{' must start a repetition {m}, {m,} or {m,n} with m <= n <= 255 "
                             "(write \\{ for the character)");
        n = open ? m + 1 : n;
        x->i++;
    }
    bool repeats = c == '*' || c == '+' || n > 1;
    if (repeats && x->last_null[x->depth])
        return rx_bad(x, "a repeated group that can match nothing, like (a*)*: regcomp takes "
                         "exponential time on these (repeat the group or its inside, not both)");
    if (c == '*' || c == '?' || m == 0)
        x->last_null[x->depth] = true;
    uint32_t k = n < 1 ? 1 : n, *last = &x->last[x->depth];
    x->size[x->depth] = sat_add(x->size[x->depth], sat_mul(*last, k - 1));
    *last = sat_mul(*last, k);
    buf_put(&x->out, x->p + start, x->i - start);
    x->after_quant = true;
    return CHR_OK;
}

static enum chr_err rx_group(struct rx *x, char c)
{
    if (c == '(') {
        if (x->p[x->i + 1] == '?')
            return rx_bad(x, "'(?' constructs (non-capturing groups, look-around, flags) have no "
                             "POSIX equivalent: use a plain group");
        if (x->depth == CHR_CONSTRAINT_REGEX_DEPTH_MAX)
            return rx_bad(x, "groups nested too deep");
        x->depth++;
        rx_frame(x);
        x->have_atom = x->after_quant = false;
    } else {
        if (x->depth == 0)
            return rx_bad(x, "unmatched ')'");
        int d = x->depth--;
        bool nullable = x->alt_null[d] || (x->seq_null[d] && x->last_null[d]);
        rx_atom_null(x, x->size[d] < 1 ? 1 : x->size[d], nullable);
    }
    buf_ch(&x->out, c);
    x->i++;
    return CHR_OK;
}

static enum chr_err rx_token(struct rx *x)
{
    char c = x->p[x->i];
    switch (c) {
    case '\\': return rx_escape(x);
    case '[': return rx_bracket(x);
    case '(': case ')': return rx_group(x, c);
    case '*': case '+': case '?': case '{': return rx_quantifier(x);
    case '|': case '^': case '$':
        x->have_atom = x->after_quant = false;
        if (c == '|') {
            int d = x->depth;
            x->alt_null[d] = x->alt_null[d] || (x->seq_null[d] && x->last_null[d]);
            x->seq_null[d] = x->last_null[d] = true;
            x->last[d] = 0;
        }
        buf_ch(&x->out, c);
        x->i++;
        return CHR_OK;
    default:
        if ((unsigned char)c >= 0x80)
            return rx_bad(x, "non-ASCII characters: matching here is by bytes, not by "
                             "characters as in Java");
        buf_ch(&x->out, c); /* '.', ']', '}' and plain characters */
        x->i++;
        rx_atom(x, 1);
        return CHR_OK;
    }
}

/* The POSIX ERE for Java regex `pat` (at most CHR_CONSTRAINT_VALUE_MAX
 * bytes), anchored: "^(...)$", into out.  CHR_EINVAL naming `field`. */
static enum chr_err rx_translate(const char *pat, const char *field, char out[RX_OUT_MAX],
                                 struct chr_error *err)
{
    struct rx x = {.p = pat, .out = {out, 0, RX_OUT_MAX}, .field = field, .err = err};
    enum chr_err e = CHR_OK;
    CHR_ASSERT(strlen(pat) <= CHR_CONSTRAINT_VALUE_MAX);
    rx_frame(&x);
    buf_str(&x.out, "^(");
    while (e == CHR_OK && pat[x.i] != '\0')
        e = rx_token(&x);
    if (e == CHR_OK && x.depth > 0)
        e = rx_bad(&x, "unclosed '('");
    if (e == CHR_OK && x.size[0] > CHR_CONSTRAINT_REGEX_SIZE_MAX)
        e = chr_error_set(err, CHR_EINVAL, field,
                          "the pattern's repetitions expand to more than %d atoms",
                          CHR_CONSTRAINT_REGEX_SIZE_MAX);
    if (e == CHR_OK)
        buf_str(&x.out, ")$");
    return e;
}

/* ---- Compiled constraints ------------------------------------------------ */

struct compiled {
    enum chr_constraint_op op;
    char *attribute, *value;
    bool has_re;
    regex_t re; /* LIKE, UNLIKE */
};

struct chr_constraints {
    uint32_t n;
    struct compiled v[];
};

void chr_constraints_free(struct chr_constraints *cs)
{
    if (cs == NULL)
        return;
    for (uint32_t i = 0; i < cs->n; i++) {
        chr_free(cs->v[i].attribute);
        chr_free(cs->v[i].value);
        if (cs->v[i].has_re)
            regfree(&cs->v[i].re);
    }
    chr_free(cs);
}

uint32_t chr_constraints_count(const struct chr_constraints *cs)
{
    return cs != NULL ? cs->n : 0;
}

const char *chr_constraints_describe(const struct chr_constraints *cs, uint32_t i, char *buf,
                                     size_t size)
{
    CHR_ASSERT(cs != NULL && i < cs->n && size > 0);
    const struct compiled *k = &cs->v[i];
    snprintf(buf, size, "%s %s %s", k->attribute, chr_constraint_op_name(k->op), k->value);
    return buf;
}

/* One constraint's texts: present, bounded, UTF-8; the attribute not empty. */
static enum chr_err check_texts(const struct chr_constraint *c, uint32_t i,
                                struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    chr_error_fieldf(f, "constraints[%u][0]", (unsigned)i);
    if (c->attribute == NULL || c->attribute[0] == '\0')
        return chr_error_set(err, CHR_EINVAL, f, "the attribute name is empty");
    if (strnlen(c->attribute, CHR_CONSTRAINT_ATTR_MAX + 1) > CHR_CONSTRAINT_ATTR_MAX)
        return chr_error_set(err, CHR_EINVAL, f, "longer than %d bytes (no agent attribute is)",
                             CHR_CONSTRAINT_ATTR_MAX);
    if (!chr_utf8_valid(c->attribute))
        return chr_error_set(err, CHR_EINVAL, f, "is not valid UTF-8");
    chr_error_fieldf(f, "constraints[%u][1]", (unsigned)i);
    if (c->op < CHR_CONSTRAINT_EQUALS || c->op > CHR_CONSTRAINT_UNLIKE)
        return chr_error_set(err, CHR_EINVAL, f, "not an operator (EQUALS, LIKE, UNLIKE)");
    chr_error_fieldf(f, "constraints[%u][2]", (unsigned)i);
    if (c->value == NULL)
        return chr_error_set(err, CHR_EINVAL, f, "missing");
    if (strnlen(c->value, CHR_CONSTRAINT_VALUE_MAX + 1) > CHR_CONSTRAINT_VALUE_MAX)
        return chr_error_set(err, CHR_EINVAL, f, "longer than %d bytes",
                             CHR_CONSTRAINT_VALUE_MAX);
    if (!chr_utf8_valid(c->value))
        return chr_error_set(err, CHR_EINVAL, f, "is not valid UTF-8");
    return CHR_OK;
}

/* Compiles constraint i's regex (value) into *re. */
static enum chr_err compile_re(const char *value, uint32_t i, regex_t *re, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX], ere[RX_OUT_MAX];
    chr_error_fieldf(f, "constraints[%u][2]", (unsigned)i);
    enum chr_err e = rx_translate(value, f, ere, err);
    if (e != CHR_OK)
        return e;
    int rc = regcomp(re, ere, REG_EXTENDED | REG_NOSUB);
    if (rc == REG_ESPACE)
        return CHR_ENOMEM;
    if (rc != 0) {
        char why[96], q[64];
        regerror(rc, NULL, why, sizeof why);
        return chr_error_set(err, CHR_EINVAL, f, "'%s' is not a regular expression: %s",
                             chr_error_quote(value, strlen(value), 40, q), why);
    }
    return CHR_OK;
}

static enum chr_err check_list(const struct chr_constraint *v, uint32_t n, struct chr_error *err)
{
    if (n > CHR_JOB_CONSTRAINTS_MAX)
        return chr_error_set(err, CHR_EINVAL, "constraints", "more than %d entries",
                             CHR_JOB_CONSTRAINTS_MAX);
    if (n > 0 && v == NULL)
        return chr_error_set(err, CHR_EINVAL, "constraints", "missing");
    return CHR_OK;
}

enum chr_err chr_constraints_check(const struct chr_constraint *v, uint32_t n,
                                   struct chr_error *err)
{
    enum chr_err e = check_list(v, n, err);
    for (uint32_t i = 0; e == CHR_OK && i < n; i++) {
        regex_t re;
        if ((e = check_texts(&v[i], i, err)) != CHR_OK || v[i].op == CHR_CONSTRAINT_EQUALS)
            continue;
        if ((e = compile_re(v[i].value, i, &re, err)) == CHR_OK)
            regfree(&re);
    }
    return e;
}

enum chr_err chr_constraints_compile(const struct chr_constraint *v, uint32_t n,
                                     struct chr_constraints **out, struct chr_error *err)
{
    *out = NULL;
    enum chr_err e = check_list(v, n, err);
    if (e != CHR_OK || n == 0)
        return e;
    struct chr_constraints *cs = chr_calloc(1, sizeof *cs + n * sizeof cs->v[0]);
    if (cs == NULL)
        return CHR_ENOMEM;
    for (uint32_t i = 0; e == CHR_OK && i < n; i++) {
        struct compiled *k = &cs->v[cs->n++];
        if ((e = check_texts(&v[i], i, err)) != CHR_OK)
            break;
        k->op = v[i].op;
        k->attribute = chr_strndup(v[i].attribute, strlen(v[i].attribute));
        k->value = chr_strndup(v[i].value, strlen(v[i].value));
        if (k->attribute == NULL || k->value == NULL)
            e = CHR_ENOMEM;
        else if (k->op != CHR_CONSTRAINT_EQUALS &&
                 (e = compile_re(k->value, i, &k->re, err)) == CHR_OK)
            k->has_re = true;
    }
    if (e != CHR_OK) {
        chr_constraints_free(cs);
        return e;
    }
    *out = cs;
    return CHR_OK;
}

/* ---- Prepared attributes --------------------------------------------------- */

enum attr_kind { KIND_TEXT = 0, KIND_SCALAR, KIND_SET, KIND_RANGES };

struct attr {
    const char *name;
    const char *value;  /* TEXT: the text; SCALAR: as Java prints it; SET: the
                         * items, each NUL-terminated, one after the other */
    uint32_t n_items;   /* SET */
    enum attr_kind kind;
};

struct chr_attrs {
    size_t n;
    struct attr *v;     /* into the same allocation */
    char *pool;
};

void chr_attrs_free(struct chr_attrs *a)
{
    chr_free(a);
}

/* A decimal number as Mesos prints a scalar: [+-]digits[.digits][e[+-]digits]. */
static bool is_decimal(const char *s)
{
    size_t i = s[0] == '-' || s[0] == '+', digits = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (s[i] == '.')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits > 0 && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1 + (s[i + 1] == '-' || s[i + 1] == '+'), exp = 0;
        for (; s[j] >= '0' && s[j] <= '9'; j++)
            exp++;
        i = exp > 0 ? j : i;
    }
    return digits > 0 && s[i] == '\0';
}

static enum attr_kind kind_of(const char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '{' && v[n - 1] == '}')
        return KIND_SET;
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
        return KIND_RANGES;
    if (is_decimal(v) && isfinite(strtod(v, NULL)))
        return KIND_SCALAR;
    return KIND_TEXT;
}

/* Room a scalar takes printed as Java does ("-1.2345678901234567E-300"). */
#define JAVA_DOUBLE_MAX 32

/* x as Java's Double.toString prints it: the fewest digits that read back
 * as x, at least one after the point; scientific outside [1e-3, 1e7). */
static void java_double(double x, char out[JAVA_DOUBLE_MAX])
{
    double ax = fabs(x);
    if (x == 0) {
        snprintf(out, JAVA_DOUBLE_MAX, "%s", signbit(x) ? "-0.0" : "0.0");
        return;
    }
    bool plain = ax >= 1e-3 && ax < 1e7;
    for (int p = 1; p <= 17; p++) {
        snprintf(out, JAVA_DOUBLE_MAX, plain ? "%.*f" : "%.*e", p, x);
        if (strtod(out, NULL) == x)
            break;
    }
    if (plain)
        return;
    char *e = strchr(out, 'e');
    CHR_ASSERT(e != NULL);
    long exp = strtol(e + 1, NULL, 10);
    /* Java drops trailing zeros of the mantissa but keeps one digit. */
    char *end = e;
    while (end > out + 2 && end[-1] == '0' && end[-2] != '.')
        end--;
    snprintf(end, JAVA_DOUBLE_MAX - (size_t)(end - out), "E%ld", exp);
}

static enum chr_err check_offer(const struct chr_offer *o, struct chr_error *err)
{
    char f[CHR_ERROR_FIELD_MAX];
    if (o->hostname != NULL && strnlen(o->hostname, CHR_OFFER_HOST_MAX) >= CHR_OFFER_HOST_MAX)
        return chr_error_set(err, CHR_EINVAL, "hostname", "longer than %d bytes",
                             CHR_OFFER_HOST_MAX - 1);
    if (o->n_attrs > CHR_OFFER_ATTRS_MAX)
        return chr_error_set(err, CHR_EINVAL, "attributes", "more than %d",
                             CHR_OFFER_ATTRS_MAX);
    if (o->n_attrs > 0 && o->attrs == NULL)
        return chr_error_set(err, CHR_EINVAL, "attributes", "missing");
    for (size_t i = 0; i < o->n_attrs; i++) {
        const struct chr_offer_attr *a = &o->attrs[i];
        chr_error_fieldf(f, "attributes[%zu]", i);
        if (a->name == NULL || a->value == NULL)
            return chr_error_set(err, CHR_EINVAL, f, "without a name or a value");
        if (strnlen(a->name, CHR_OFFER_ATTR_NAME_MAX) >= CHR_OFFER_ATTR_NAME_MAX ||
            strnlen(a->value, CHR_OFFER_ATTR_VALUE_MAX) >= CHR_OFFER_ATTR_VALUE_MAX)
            return chr_error_set(err, CHR_EINVAL, f, "a name or value longer than %d or %d bytes",
                                 CHR_OFFER_ATTR_NAME_MAX - 1, CHR_OFFER_ATTR_VALUE_MAX - 1);
    }
    return CHR_OK;
}

static const char *pool_put(char **pool, const char *s, size_t n)
{
    char *r = *pool;
    memcpy(r, s, n);
    r[n] = '\0';
    *pool += n + 1;
    return r;
}

/* A SET's items ("{a, b}": "a" and "b"), NUL-terminated one after the other. */
static void set_items(struct attr *at, const char *v, char **pool)
{
    const char *p = v + 1, *end = v + strlen(v) - 1;
    at->value = *pool;
    at->n_items = 0;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end, *b = p, *e = stop;
        while (b < e && *b == ' ')
            b++;
        while (e > b && e[-1] == ' ')
            e--;
        pool_put(pool, b, (size_t)(e - b));
        at->n_items++;
        p = comma != NULL ? comma + 1 : end;
    }
}

static void prepare(struct attr *at, const char *name, const char *value, enum attr_kind kind,
                    char **pool)
{
    at->name = pool_put(pool, name, strlen(name));
    at->kind = kind;
    at->n_items = 0;
    if (kind == KIND_SCALAR) {
        java_double(strtod(value, NULL), *pool);
        at->value = *pool;
        *pool += strlen(*pool) + 1;
    } else if (kind == KIND_SET) {
        set_items(at, value, pool);
    } else {
        at->value = pool_put(pool, value, strlen(value));
    }
}

enum chr_err chr_attrs_new(const struct chr_offer *o, struct chr_attrs **out,
                           struct chr_error *err)
{
    *out = NULL;
    enum chr_err e = check_offer(o, err);
    if (e != CHR_OK)
        return e;
    const char *host = o->hostname != NULL ? o->hostname : "";
    bool has_host = false;
    size_t pool = sizeof "hostname" + strlen(host) + 1;
    for (size_t i = 0; i < o->n_attrs; i++) {
        size_t v = strlen(o->attrs[i].value) + 1;
        pool += strlen(o->attrs[i].name) + 1 + (v < JAVA_DOUBLE_MAX ? JAVA_DOUBLE_MAX : v);
        has_host = has_host || strcmp(o->attrs[i].name, "hostname") == 0;
    }
    size_t n = o->n_attrs + !has_host;
    struct chr_attrs *a = chr_malloc(sizeof *a + n * sizeof(struct attr) + pool);
    if (a == NULL)
        return CHR_ENOMEM;
    a->n = n;
    a->v = (struct attr *)(void *)(a + 1);
    a->pool = (char *)(a->v + n);
    char *p = a->pool;
    for (size_t i = 0; i < o->n_attrs; i++)
        prepare(&a->v[i], o->attrs[i].name, o->attrs[i].value, kind_of(o->attrs[i].value), &p);
    if (!has_host) /* Chronos's synthetic attribute: TEXT, whatever it looks like */
        prepare(&a->v[n - 1], "hostname", host, KIND_TEXT, &p);
    *out = a;
    return CHR_OK;
}

/* ---- Matching ------------------------------------------------------------------------- */

static bool whole_match(const regex_t *re, const char *s)
{
    return regexec(re, s, 0, NULL, 0) == 0;
}

/* LIKE on a TEXT, SCALAR or SET attribute. */
static bool like(const struct compiled *k, const struct attr *at)
{
    if (at->kind != KIND_SET)
        return whole_match(&k->re, at->value);
    const char *item = at->value;
    for (uint32_t i = 0; i < at->n_items; i++, item += strlen(item) + 1)
        if (whole_match(&k->re, item))
            return true;
    return false;
}

bool chr_constraint_holds(const struct chr_constraints *cs, uint32_t i, const struct chr_attrs *a)
{
    CHR_ASSERT(cs != NULL && i < cs->n && a != NULL);
    const struct compiled *k = &cs->v[i];
    if (k->op == CHR_CONSTRAINT_EQUALS) { /* any attribute of the name */
        for (size_t j = 0; j < a->n; j++)
            if (strcmp(a->v[j].name, k->attribute) == 0 &&
                strcmp(a->v[j].kind == KIND_TEXT ? a->v[j].value : "", k->value) == 0)
                return true;
        return false;
    }
    for (size_t j = 0; j < a->n; j++) { /* the first attribute of the name */
        const struct attr *at = &a->v[j];
        if (strcmp(at->name, k->attribute) != 0)
            continue;
        if (at->kind == KIND_RANGES)
            return false;
        return like(k, at) == (k->op == CHR_CONSTRAINT_LIKE);
    }
    return false;
}

bool chr_constraints_hold(const struct chr_constraints *cs, const struct chr_attrs *a)
{
    for (uint32_t i = 0; i < chr_constraints_count(cs); i++)
        if (!chr_constraint_holds(cs, i, a))
            return false;
    return true;
}
