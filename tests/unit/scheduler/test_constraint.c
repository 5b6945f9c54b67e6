/*
 * test_constraint.c - job constraints (scheduler/constraint.c): operator
 * names, every way a constraint is refused (each naming its entry), Java
 * regexes as POSIX reads them (whole-text matches, translated classes,
 * lazy quantifiers, bracket members placed where POSIX wants them), the
 * semantics of EQUALS, LIKE and UNLIKE on TEXT, SCALAR, SET and RANGES
 * attributes as Chronos 3 had them (ConstraintChecker.scala and its specs),
 * the synthetic hostname attribute, the bounds on an offer's attributes,
 * and allocation failure.
 */
#include "../unit.h"

#include <stdbool.h>

#include "common/alloc.h"
#include "common/limits.h"
#include "scheduler/constraint.h"

/* ---- helpers ------------------------------------------------------------ */

static struct chr_constraint K(const char *attr, enum chr_constraint_op op, const char *value)
{
    return (struct chr_constraint){(char *)(uintptr_t)attr, op, (char *)(uintptr_t)value};
}

static struct chr_constraints *compile1(struct chr_constraint k)
{
    struct chr_constraints *cs = NULL;
    struct chr_error err;
    enum chr_err e = chr_constraints_compile(&k, 1, &cs, &err);
    if (e != CHR_OK)
        fail_msg("'%s' does not compile: %s", k.value, err.message);
    return cs;
}

/* Both the check and the compilation refuse v, naming `field`, with a
 * message holding `part`. */
static void expect_refused(const struct chr_constraint *v, uint32_t n, const char *field,
                           const char *part, int line)
{
    struct chr_error err;
    struct chr_constraints *cs = (struct chr_constraints *)1;
    memset(&err, 0, sizeof err);
    enum chr_err e = chr_constraints_check(v, n, &err);
    if (e != CHR_EINVAL || strcmp(err.field, field) != 0 || strstr(err.message, part) == NULL)
        fail_msg("line %d: check gave %d, '%s' (want %s: ...%s...)", line, (int)e, err.message,
                 field, part);
    memset(&err, 0, sizeof err);
    e = chr_constraints_compile(v, n, &cs, &err);
    if (e != CHR_EINVAL || cs != NULL || strcmp(err.field, field) != 0 ||
        strstr(err.message, part) == NULL)
        fail_msg("line %d: compile gave %d, '%s'", line, (int)e, err.message);
    if (strncmp(err.message, field, strlen(field)) != 0)
        fail_msg("line %d: message '%s' does not start with its field", line, err.message);
}

/* An offer's prepared attributes: n name=value pairs and a hostname. */
static struct chr_attrs *attrs(const char *host, const char *const *kv, size_t n)
{
    struct chr_offer_attr a[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        a[i] = (struct chr_offer_attr){kv[2 * i], kv[2 * i + 1]};
    struct chr_offer o = {.id = 1, .hostname = host, .attrs = a, .n_attrs = n};
    struct chr_attrs *out = NULL;
    struct chr_error err;
    if (chr_attrs_new(&o, &out, &err) != CHR_OK)
        fail_msg("attributes refused: %s", err.message);
    return out;
}

static bool holds(struct chr_constraint k, const struct chr_attrs *a)
{
    struct chr_constraints *cs = compile1(k);
    bool r = chr_constraint_holds(cs, 0, a);
    assert_true(chr_constraints_hold(cs, a) == r);
    chr_constraints_free(cs);
    return r;
}

/* LIKE pattern on a TEXT attribute holding `text`. */
static bool like_text(const char *pattern, const char *text)
{
    const char *kv[] = {"a", text};
    struct chr_attrs *a = attrs("h", kv, 1);
    bool r = holds(K("a", CHR_CONSTRAINT_LIKE, pattern), a);
    chr_attrs_free(a);
    return r;
}

/* ---- Operators ---------------------------------------------------------- */

static void test_operator_names(void **state)
{
    (void)state;
    enum chr_constraint_op op = 0;
    assert_true(chr_constraint_op_parse("EQUALS", &op) && op == CHR_CONSTRAINT_EQUALS);
    assert_true(chr_constraint_op_parse("LIKE", &op) && op == CHR_CONSTRAINT_LIKE);
    assert_true(chr_constraint_op_parse("UNLIKE", &op) && op == CHR_CONSTRAINT_UNLIKE);
    /* Chronos matched the operator exactly: case matters. */
    assert_false(chr_constraint_op_parse("equals", &op));
    assert_false(chr_constraint_op_parse("CLUSTER", &op)); /* Marathon's, not Chronos's */
    assert_false(chr_constraint_op_parse("", &op));
    assert_false(chr_constraint_op_parse(NULL, &op));
    assert_string_equal(chr_constraint_op_name(CHR_CONSTRAINT_UNLIKE), "UNLIKE");
    assert_string_equal(chr_constraint_op_name((enum chr_constraint_op)9), "?");
}

/* ---- Refused at PUT ------------------------------------------------------ */

#define REFUSED(k, field, part)                                                               \
    do {                                                                                       \
        struct chr_constraint v_[2] = {K("rack", CHR_CONSTRAINT_EQUALS, "r1"), k};             \
        expect_refused(v_, 2, field, part, __LINE__);                                          \
    } while (0)

static void test_refused_texts(void **state)
{
    (void)state;
    char long_attr[CHR_CONSTRAINT_ATTR_MAX + 2], long_value[CHR_CONSTRAINT_VALUE_MAX + 2];
    memset(long_attr, 'a', sizeof long_attr - 1);
    long_attr[sizeof long_attr - 1] = '\0';
    memset(long_value, 'v', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    REFUSED(K("", CHR_CONSTRAINT_EQUALS, "x"), "constraints[1][0]", "attribute name is empty");
    REFUSED(K(NULL, CHR_CONSTRAINT_EQUALS, "x"), "constraints[1][0]", "empty");
    REFUSED(K(long_attr, CHR_CONSTRAINT_EQUALS, "x"), "constraints[1][0]", "longer than 127");
    REFUSED(K("r\xff", CHR_CONSTRAINT_EQUALS, "x"), "constraints[1][0]", "UTF-8");
    REFUSED(K("rack", (enum chr_constraint_op)0, "x"), "constraints[1][1]", "not an operator");
    REFUSED(K("rack", (enum chr_constraint_op)4, "x"), "constraints[1][1]", "not an operator");
    REFUSED(K("rack", CHR_CONSTRAINT_EQUALS, NULL), "constraints[1][2]", "missing");
    REFUSED(K("rack", CHR_CONSTRAINT_EQUALS, long_value), "constraints[1][2]",
            "longer than 255");
    REFUSED(K("rack", CHR_CONSTRAINT_LIKE, "\xc3("), "constraints[1][2]", "UTF-8");
    /* The longest accepted. */
    long_attr[CHR_CONSTRAINT_ATTR_MAX] = '\0';
    long_value[CHR_CONSTRAINT_VALUE_MAX] = '\0';
    struct chr_constraint ok = K(long_attr, CHR_CONSTRAINT_LIKE, long_value);
    chr_constraints_free(compile1(ok));

    struct chr_constraint many[CHR_JOB_CONSTRAINTS_MAX + 1];
    for (size_t i = 0; i < CHR_JOB_CONSTRAINTS_MAX + 1; i++)
        many[i] = K("rack", CHR_CONSTRAINT_EQUALS, "r1");
    expect_refused(many, CHR_JOB_CONSTRAINTS_MAX + 1, "constraints", "more than 64", __LINE__);
    struct chr_constraints *cs = NULL;
    assert_int_equal(chr_constraints_compile(many, CHR_JOB_CONSTRAINTS_MAX, &cs, NULL), CHR_OK);
    assert_int_equal(chr_constraints_count(cs), CHR_JOB_CONSTRAINTS_MAX);
    chr_constraints_free(cs);
    expect_refused(NULL, 1, "constraints", "missing", __LINE__);
    assert_int_equal(chr_constraints_compile(NULL, 0, &cs, NULL), CHR_OK);
    assert_null(cs);
    assert_int_equal(chr_constraints_count(NULL), 0);
}

/* Patterns Java would refuse, or POSIX would read otherwise. */
static void test_refused_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *part;
    } bad[] = {
        {"[[[", "inside [...]"},          /* Chronos's own spec: PatternSyntaxException */
        {"rack-[1-", "unclosed '['"},
        {"(?i)rack", "'(?' constructs"},
        {"(?:a|b)", "'(?' constructs"},
        {"a(?=b)", "'(?' constructs"},
        {"a++", "possessive"},
        {"a*+", "possessive"},
        {"a**", "a quantifier follows a quantifier"},
        {"*a", "nothing to repeat"},
        {"a|*b", "nothing to repeat"},
        {"\\p{L}", "Java escape"},
        {"\\x41", "Java escape"},
        {"\\t", "Java escape"},
        {"\\Qa.b\\E", "Java escape"},
        {"(a)\\1", "Java escape"},
        {"a\\", "lone backslash"},
        {"a{2", "repetition"},
        {"a{,3}", "repetition"},
        {"a{3,1}", "repetition"},
        {"a{1,300}", "repetition"},
        {"a{x}", "repetition"},
        {"a)", "unmatched ')'"},
        {"(a", "unclosed '('"},
        {"[a&&b]", "'&&'"},
        {"[[:alpha:]]", "inside [...]"},
        {"[]a]", "'[]' is empty"},
        {"[\\x41]", "only \\d, \\s and \\w"},
        {"[\\D]", "only \\d, \\s and \\w"},
        {"[z-a]", "runs backwards"},
        {"[a-\\z]", "two plain characters"},
        {"caf\xc3\xa9", "non-ASCII"},
        {"[\xc3\xa9]", "non-ASCII"},
        {"((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))", "too deep"},
        /* glibc takes seconds and hundreds of MB to compile this one. */
        {"(a{1,255}){1,255}", "more than 256 atoms"},
        {"((a{1,7}){1,7}){1,7}", "more than 256 atoms"},
        /* Exponential in regcomp: (a*)* twenty times takes a second. */
        {"(a*)*", "can match nothing"},
        {"(a?)+", "can match nothing"},
        {"(a*b*){2}", "can match nothing"},
        {"(a|)*", "can match nothing"},
        {"(a|b?)*", "can match nothing"},
        {"((a+)?)+", "can match nothing"},
        {"(a{0,3}){1,4}", "can match nothing"},
        {"()*", "can match nothing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct chr_constraint v = K("rack", i % 2 ? CHR_CONSTRAINT_LIKE : CHR_CONSTRAINT_UNLIKE,
                                    bad[i].pattern);
        expect_refused(&v, 1, "constraints[0][2]", bad[i].part, (int)i);
    }
    /* EQUALS takes any text: no regex there. */
    struct chr_constraint eq = K("rack", CHR_CONSTRAINT_EQUALS, "[[[");
    chr_constraints_free(compile1(eq));
}

/* ---- Java regexes, whole-text matches ----------------------------------------- */

static void test_like_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *text;
        bool match;
    } cases[] = {
        /* Chronos's LikeConstraintSpec. */
        {"rack-[1-3]", "rack-1", true},
        {"rack-[2-3]", "rack-1", false},
        {"north|south", "north", true},
        {"^n.*", "north", true},
        /* The whole text, as Matcher.matches(). */
        {"rack", "rack-1", false},
        {"ack-1", "rack-1", false},
        {"a|ab", "ab", true},
        {"", "", true},
        {"", "x", false},
        {"()", "", true},
        /* Java's classes, translated. */
        {"r\\d+", "r123", true}, /* "123" would be a SCALAR: "123.0" */
        {"\\d+", "12a", false},
        {"\\D+", "ab", true},
        {"x\\D", "x1", false},
        {"\\w+", "a_Z9", true},
        {"\\w+", "a-1", false},
        {"\\W", "-", true},
        {"\\s", " ", true},
        {"\\S+", "a b", false},
        {"v[\\d.]+", "v1.25", true},
        {"[\\w-]+", "rack-1_a", true},
        {"[^\\d]+", "abc", true},
        {"[^\\d]+", "ab1", false},
        {"a\\b", "a", true},
        /* Lazy quantifiers: the same whole texts as greedy ones. */
        {"a+?", "", false},
        {"a+?", "aaa", true},
        {"a*?b", "aab", true},
        {"x??", "", true},
        {"a{2,3}?", "aaa", true},
        {"a{2,3}?", "a", false},
        /* Repetitions. */
        {"a{2}", "aa", true},
        {"a{2}", "aaa", false},
        {"(ab){2,}", "ababab", true},
        {"(ab){2,}", "ab", false},
        /* Repeated groups that cannot match nothing are fine. */
        {"(ab*)*", "abbab", true},
        {"(a+)+", "aaa", true},
        {"(a*)?", "", true},
        {"(a*|b)c", "c", true},
        {"((a|b)c?)+", "acb", true},
        {"(a{1,3}){1,4}", "aaaaaaa", true},
        {"(a{1,3}){1,4}", "", false},
        /* Escaped characters. */
        {"\\.", ".", true},
        {"\\.", "x", false},
        {"a\\-b", "a-b", true},
        {"\\(x\\)", "(x)", true},
        {"a\\{1\\}", "a{1}", true},
        {"x]", "x]", true},
        {"x}", "x}", true},
        /* Bracket members POSIX wants in places. */
        {"[-a]", "-", true},
        {"[a-]", "-", true},
        {"[a\\-z]", "-", true},
        {"[a\\-z]", "b", false},
        {"[\\^]", "^", true},
        {"[\\^]", "\\", false},
        {"[\\]]", "]", true},
        {"[\\[]", "[", true},
        {"[\\[:]+", ":[", true},
        {"[^\\]]", "]", false},
        {"[^\\]]", "a", true},
        {"[\\^-]+", "-^", true},
        {"[.]", "x", false},
        {"[a-c-e]+", "b-e", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (like_text(cases[i].pattern, cases[i].text) != cases[i].match)
            fail_msg("'%s' on '%s': want %s", cases[i].pattern, cases[i].text,
                     cases[i].match ? "a match" : "no match");
}

/* ---- Attributes and operators ------------------------------------------------------- */

static void test_operators_on_types(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "rack", "rack-1", "cores", "8", "zones", "{a, b}", "ports", "[31000-32000]",
        "rack", "rack-2", "load", "2.5",
    };
    struct chr_attrs *a = attrs("agent-1.example", kv, 6);
    /* EQUALS: any attribute of the name; LIKE and UNLIKE: the first. */
    assert_true(holds(K("rack", CHR_CONSTRAINT_EQUALS, "rack-1"), a));
    assert_true(holds(K("rack", CHR_CONSTRAINT_EQUALS, "rack-2"), a));
    assert_false(holds(K("rack", CHR_CONSTRAINT_EQUALS, "rack-3"), a));
    assert_false(holds(K("rack", CHR_CONSTRAINT_LIKE, "rack-2"), a));
    assert_true(holds(K("rack", CHR_CONSTRAINT_UNLIKE, "rack-2"), a));
    assert_false(holds(K("rack", CHR_CONSTRAINT_UNLIKE, "rack-[12]"), a));
    /* SCALAR: LIKE sees Java's "8.0"; EQUALS compared protobuf's "" text. */
    assert_true(holds(K("cores", CHR_CONSTRAINT_LIKE, "8\\.0"), a));
    assert_true(holds(K("cores", CHR_CONSTRAINT_LIKE, "\\d\\.\\d"), a));
    assert_false(holds(K("cores", CHR_CONSTRAINT_LIKE, "8"), a));
    assert_true(holds(K("cores", CHR_CONSTRAINT_UNLIKE, "8"), a));
    assert_false(holds(K("cores", CHR_CONSTRAINT_UNLIKE, "[0-9.]+"), a));
    assert_false(holds(K("cores", CHR_CONSTRAINT_EQUALS, "8"), a));
    assert_true(holds(K("cores", CHR_CONSTRAINT_EQUALS, ""), a));
    assert_true(holds(K("load", CHR_CONSTRAINT_LIKE, "2\\.5"), a));
    /* SET: LIKE when an item matches, UNLIKE when none does. */
    assert_true(holds(K("zones", CHR_CONSTRAINT_LIKE, "b"), a));
    assert_false(holds(K("zones", CHR_CONSTRAINT_LIKE, "a, b|\\{a, b\\}"), a));
    assert_false(holds(K("zones", CHR_CONSTRAINT_UNLIKE, "a"), a));
    assert_true(holds(K("zones", CHR_CONSTRAINT_UNLIKE, "c"), a));
    assert_false(holds(K("zones", CHR_CONSTRAINT_EQUALS, "{a, b}"), a));
    /* RANGES: neither LIKE nor UNLIKE ever holds. */
    assert_false(holds(K("ports", CHR_CONSTRAINT_LIKE, ".*"), a));
    assert_false(holds(K("ports", CHR_CONSTRAINT_UNLIKE, "x"), a));
    /* An attribute the agent lacks: nothing holds, UNLIKE neither. */
    assert_false(holds(K("gpu", CHR_CONSTRAINT_EQUALS, "x"), a));
    assert_false(holds(K("gpu", CHR_CONSTRAINT_LIKE, ".*"), a));
    assert_false(holds(K("gpu", CHR_CONSTRAINT_UNLIKE, "x"), a));
    /* The offer's hostname, as a TEXT attribute. */
    assert_true(holds(K("hostname", CHR_CONSTRAINT_EQUALS, "agent-1.example"), a));
    assert_true(holds(K("hostname", CHR_CONSTRAINT_LIKE, "agent-\\d\\..*"), a));
    assert_false(holds(K("hostname", CHR_CONSTRAINT_EQUALS, "agent-2.example"), a));
    chr_attrs_free(a);

    /* An agent's own hostname attribute wins over the offer's hostname. */
    static const char *const explicit_host[] = {"hostname", "slave.explicit.com"};
    a = attrs("slave.one.com", explicit_host, 1);
    assert_false(holds(K("hostname", CHR_CONSTRAINT_EQUALS, "slave.one.com"), a));
    assert_true(holds(K("hostname", CHR_CONSTRAINT_EQUALS, "slave.explicit.com"), a));
    chr_attrs_free(a);
    /* The synthetic one is TEXT whatever it looks like; no hostname is "". */
    a = attrs("1234", NULL, 0);
    assert_true(holds(K("hostname", CHR_CONSTRAINT_EQUALS, "1234"), a));
    chr_attrs_free(a);
    a = attrs(NULL, NULL, 0);
    assert_true(holds(K("hostname", CHR_CONSTRAINT_EQUALS, ""), a));
    chr_attrs_free(a);
}

/* Scalars as Java's Double.toString printed them. */
static void test_scalars_as_java_prints_them(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"1", "1.0"},       {"2.5", "2.5"},        {"-3", "-3.0"},      {"0", "0.0"},
        {"0.001", "0.001"}, {"0.0001", "1.0E-4"},  {"10000000", "1.0E7"},
        {"9999999", "9999999.0"}, {"1.5e10", "1.5E10"}, {"123.125", "123.125"},
        {"+4", "4.0"},      {"1e2", "100.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *kv[] = {"x", cases[i][0]};
        struct chr_attrs *a = attrs("h", kv, 1);
        char pattern[64];
        size_t w = 0;
        for (const char *p = cases[i][1]; *p != '\0'; p++) { /* the text, literally */
            if (*p == '.')
                pattern[w++] = '\\';
            pattern[w++] = *p;
        }
        pattern[w] = '\0';
        if (!holds(K("x", CHR_CONSTRAINT_LIKE, pattern), a))
            fail_msg("scalar %s is not printed %s", cases[i][0], cases[i][1]);
        chr_attrs_free(a);
    }
    /* Not numbers: TEXT, compared as given. */
    static const char *const texts[] = {"1.2.3", "0x10", "inf", "1e", "-", "."};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *kv[] = {"x", texts[i]};
        struct chr_attrs *a = attrs("h", kv, 1);
        assert_true(holds(K("x", CHR_CONSTRAINT_EQUALS, texts[i]), a));
        chr_attrs_free(a);
    }
}

static void test_describe(void **state)
{
    (void)state;
    struct chr_constraints *cs = compile1(K("rack", CHR_CONSTRAINT_EQUALS, "rack-1"));
    char buf[64], small[8];
    assert_string_equal(chr_constraints_describe(cs, 0, buf, sizeof buf), "rack EQUALS rack-1");
    assert_string_equal(chr_constraints_describe(cs, 0, small, sizeof small), "rack EQ");
    chr_constraints_free(cs);
    assert_true(chr_constraints_hold(NULL, NULL)); /* no constraints: any offer */
}

/* ---- An offer's attributes: bounded --------------------------------------------------- */

static void expect_offer_refused(const struct chr_offer *o, const char *field)
{
    struct chr_attrs *a = (struct chr_attrs *)1;
    struct chr_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(chr_attrs_new(o, &a, &err), CHR_EINVAL);
    assert_null(a);
    if (strcmp(err.field, field) != 0)
        fail_msg("field '%s' (%s), want '%s'", err.field, err.message, field);
}

static void test_offer_bounds(void **state)
{
    (void)state;
    char name[CHR_OFFER_ATTR_NAME_MAX + 1], value[CHR_OFFER_ATTR_VALUE_MAX + 1];
    char host[CHR_OFFER_HOST_MAX + 1];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    struct chr_offer_attr many[CHR_OFFER_ATTRS_MAX + 1];
    for (size_t i = 0; i < CHR_OFFER_ATTRS_MAX + 1; i++)
        many[i] = (struct chr_offer_attr){"a", "b"};
    struct chr_offer o = {.id = 1, .attrs = many, .n_attrs = CHR_OFFER_ATTRS_MAX + 1};
    expect_offer_refused(&o, "attributes");
    o.attrs = NULL;
    o.n_attrs = 1;
    expect_offer_refused(&o, "attributes");
    struct chr_offer_attr one = {name, "v"};
    o = (struct chr_offer){.id = 1, .attrs = &one, .n_attrs = 1};
    expect_offer_refused(&o, "attributes[0]"); /* a name of 128 bytes */
    one = (struct chr_offer_attr){"n", value};
    expect_offer_refused(&o, "attributes[0]"); /* a value of 256 bytes */
    one = (struct chr_offer_attr){"n", NULL};
    expect_offer_refused(&o, "attributes[0]");
    o = (struct chr_offer){.id = 1, .hostname = host};
    expect_offer_refused(&o, "hostname");
    /* The longest of each, and the most attributes, are taken. */
    name[CHR_OFFER_ATTR_NAME_MAX - 1] = '\0';
    value[CHR_OFFER_ATTR_VALUE_MAX - 1] = '\0';
    host[CHR_OFFER_HOST_MAX - 1] = '\0';
    one = (struct chr_offer_attr){name, value};
    struct chr_attrs *a = NULL;
    o = (struct chr_offer){.id = 1, .hostname = host, .attrs = &one, .n_attrs = 1};
    assert_int_equal(chr_attrs_new(&o, &a, NULL), CHR_OK);
    chr_attrs_free(a);
    o = (struct chr_offer){.id = 1, .attrs = many, .n_attrs = CHR_OFFER_ATTRS_MAX};
    assert_int_equal(chr_attrs_new(&o, &a, NULL), CHR_OK);
    assert_true(holds(K("a", CHR_CONSTRAINT_LIKE, "b"), a));
    chr_attrs_free(a);
}

/* The attributes are a copy: the offer's texts may go. */
static void test_attrs_are_copied(void **state)
{
    (void)state;
    char name[8] = "rack", value[8] = "r1", host[8] = "h1";
    struct chr_offer_attr one = {name, value};
    struct chr_offer o = {.id = 1, .hostname = host, .attrs = &one, .n_attrs = 1};
    struct chr_attrs *a = NULL;
    assert_int_equal(chr_attrs_new(&o, &a, NULL), CHR_OK);
    memset(name, 'x', 7);
    memset(value, 'x', 7);
    memset(host, 'x', 7);
    assert_true(holds(K("rack", CHR_CONSTRAINT_EQUALS, "r1"), a));
    assert_true(holds(K("hostname", CHR_CONSTRAINT_EQUALS, "h1"), a));
    chr_attrs_free(a);
}

/* ---- Allocation failure ------------------------------------------------------------------ */

static void test_allocation_failures(void **state)
{
    (void)state;
    struct chr_constraint v[] = {K("rack", CHR_CONSTRAINT_EQUALS, "r1"),
                                 K("zone", CHR_CONSTRAINT_LIKE, "z[0-9]+"),
                                 K("os", CHR_CONSTRAINT_UNLIKE, "windows")};
    long n = 1;
    for (;; n++) {
        struct chr_constraints *cs = (struct chr_constraints *)1;
        chr_alloc_fail_after(n);
        enum chr_err e = chr_constraints_compile(v, 3, &cs, NULL);
        chr_alloc_fail_after(-1);
        if (e == CHR_OK) {
            chr_constraints_free(cs);
            break;
        }
        assert_int_equal(e, CHR_ENOMEM);
        assert_null(cs);
        assert_true(n < 100);
    }
    assert_int_equal(n, 1 + 1 + 3 * 2); /* the table, two texts each; then none fails */
    /* Checking allocates nothing of ours. */
    chr_alloc_fail_after(1);
    enum chr_err e = chr_constraints_check(v, 3, NULL);
    chr_alloc_fail_after(-1);
    assert_int_equal(e, CHR_OK);
    const char *kv[] = {"rack", "r1"};
    struct chr_offer_attr one = {kv[0], kv[1]};
    struct chr_offer o = {.id = 1, .attrs = &one, .n_attrs = 1};
    struct chr_attrs *a = (struct chr_attrs *)1;
    chr_alloc_fail_after(1);
    e = chr_attrs_new(&o, &a, NULL);
    chr_alloc_fail_after(-1);
    assert_int_equal(e, CHR_ENOMEM);
    assert_null(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operator_names),
        cmocka_unit_test(test_refused_texts),
        cmocka_unit_test(test_refused_patterns),
        cmocka_unit_test(test_like_patterns),
        cmocka_unit_test(test_operators_on_types),
        cmocka_unit_test(test_scalars_as_java_prints_them),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_offer_bounds),
        cmocka_unit_test(test_attrs_are_copied),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
