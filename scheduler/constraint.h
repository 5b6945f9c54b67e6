/*
 * constraint.h - a job's constraints (Chronos's list of [attribute,
 * operator, value]) compiled once, and evaluated against the agent
 * attributes an offer carries.  The core keeps the compiled form with each
 * job and asks it in first fit (core_offer.c); chr_job_validate compiles to
 * check, so a bad constraint is a 400 at PUT.
 *
 * The semantics are Chronos 3's (ConstraintChecker.scala and
 * scheduler/jobs/constraints/), attribute types read back from their
 * text as core.h's struct chr_offer_attr says:
 * - an offer whose agent has no attribute named "hostname" gets one, TEXT,
 *   whose value is the offer's hostname;
 * - EQUALS holds when SOME attribute of that name is TEXT with exactly that
 *   text.  (Chronos compared with getText, which for a SCALAR, SET or RANGES
 *   attribute is protobuf's default "": so an EQUALS value "" holds for
 *   those, and no other value does.  Kept as it was.)
 * - LIKE holds when the FIRST attribute of that name matches the value as a
 *   regular expression over the whole text: a TEXT's text; a SCALAR printed
 *   as Java prints a double ("1.0", "2.5", "1.0E7"; so 8 cpus is "8.0" to a
 *   pattern); a SET when one of its items matches; a RANGES never;
 * - UNLIKE is the negation of LIKE for TEXT, SCALAR and SET, and never holds
 *   for RANGES;
 * - an attribute the offer lacks: none of the three holds (UNLIKE neither);
 * - a job's constraints all hold, or the offer does not fit it.
 * The regular expressions are Java's as Chronos took them, read with POSIX
 * regcomp (REG_EXTENDED); constraint.c says what carries over and what is
 * refused at PUT because POSIX would read it differently.
 *
 * Part of scheduler/: no I/O, no clock, no threads (regcomp and regexec
 * compute, nothing more).  Both compiled forms below are immutable once
 * made: matching only reads them.
 */
#ifndef CHR_CONSTRAINT_H
#define CHR_CONSTRAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "scheduler/core.h"
#include "scheduler/job.h"

/* A job's constraints, compiled.  Opaque. */
struct chr_constraints;

/*
 * Checks and compiles the n constraints of v (the job's).  CHR_OK with *out
 * owned by the caller (chr_constraints_free), NULL when n is 0; CHR_EINVAL
 * with err naming the entry ("constraints[1][2]: ...") and *out NULL: more
 * than CHR_JOB_CONSTRAINTS_MAX, a missing or empty attribute, an unknown
 * operator, a text longer than its limit (common/limits.h) or not UTF-8, a
 * LIKE/UNLIKE value that is no regular expression or one POSIX would read
 * otherwise than Java; CHR_ENOMEM.
 */
enum chr_err chr_constraints_compile(const struct chr_constraint *v, uint32_t n,
                                     struct chr_constraints **out, struct chr_error *err);
/* The checks of chr_constraints_compile without keeping anything: no
 * allocation of ours (regcomp's own aside: CHR_ENOMEM if it runs out). */
enum chr_err chr_constraints_check(const struct chr_constraint *v, uint32_t n,
                                   struct chr_error *err);
/* NULL is allowed. */
void chr_constraints_free(struct chr_constraints *cs);
/* How many (0 for NULL). */
uint32_t chr_constraints_count(const struct chr_constraints *cs);
/* Constraint i as "rack EQUALS rack-1" in buf (cut to fit size > 0);
 * returns buf. */
const char *chr_constraints_describe(const struct chr_constraints *cs, uint32_t i, char *buf,
                                     size_t size);

/* An offer's attributes prepared for matching (types read, the hostname
 * attribute added, scalars printed the Java way): a copy.  Opaque. */
struct chr_attrs;

/*
 * Copies and prepares o's hostname and attributes.  CHR_OK with *out owned
 * by the caller (chr_attrs_free); CHR_EINVAL with err naming what is wrong
 * (more than CHR_OFFER_ATTRS_MAX attributes, a NULL or too long name, value
 * or hostname: core.h's bounds); CHR_ENOMEM.
 */
enum chr_err chr_attrs_new(const struct chr_offer *o, struct chr_attrs **out,
                           struct chr_error *err);
/* NULL is allowed. */
void chr_attrs_free(struct chr_attrs *a);

/* Whether constraint i of cs holds for the attributes a. */
bool chr_constraint_holds(const struct chr_constraints *cs, uint32_t i, const struct chr_attrs *a);
/* Whether all of them hold (true when cs is NULL). */
bool chr_constraints_hold(const struct chr_constraints *cs, const struct chr_attrs *a);

#endif
