/*
 * store.c - `chronos store check|recover|compact`: the operator's tools for
 * the local store under <data_dir>/store (zkstore/store.h).  check reads it
 * and reports each file, changing nothing; recover keeps the history before
 * the first damage and sets damaged files aside; compact writes a snapshot.
 *
 * Never deletes a file, and never opens the store for writing while a server
 * holds it (recover and compact refuse; check reads beside it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "iso8601/iso8601.h"
#include "zkstore/store.h"

static const char store_help[] =
    "usage: chronos store check|recover|compact [--data_dir DIR]\n"
    "\n"
    "Tools for the local store, DIR/store (not for ZooKeeper).\n"
    "\n"
    "  check     read every file of the store (changing nothing, safe beside a\n"
    "            running server) and report each: its records and seqs, a torn\n"
    "            tail, the first damage with its file and offset.\n"
    "            Exit status 0 healthy, 1 damaged or unreadable, 2 usage.\n"
    "  recover   make a damaged store open again: keep its history before the\n"
    "            first damage, move the damaged file and every log after it\n"
    "            aside (NAME.damaged-TIME, NAME.after-damage-TIME: never deleted)\n"
    "            and say how many records were lost.  Refuses while a server has\n"
    "            the store open.  Exit status 0 done (or nothing to do), 1 refused\n"
    "            or failed, 2 usage.\n"
    "  compact   write a snapshot and start a new log now (the server does it on\n"
    "            its own every 64 MiB of log).  Refuses while a server has the\n"
    "            store open.\n"
    "\n"
    "  --data_dir DIR   the server's data directory, as for `chronos serve`\n"
    "                   (default $CHRONOS_DATA_DIR, else ./data)\n";

/* Reads --data_dir into dir; -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, const char **data_dir)
{
    const char *env = getenv("CHRONOS_DATA_DIR");
    *data_dir = env != NULL && env[0] != '\0' ? env : "data";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(store_help, stdout);
            return CHR_EXIT_OK;
        }
        if (strncmp(a, "--data_dir=", 11) == 0 && a[11] != '\0') {
            *data_dir = a + 11;
        } else if (strcmp(a, "--data_dir") == 0 && i + 1 < argc && argv[i + 1][0] != '\0') {
            *data_dir = argv[++i];
        } else if (strncmp(a, "--data_dir", 10) == 0 && (a[10] == '\0' || a[10] == '=')) {
            fprintf(stderr, "chronos store %s: --data_dir needs a directory\n", argv[1]);
            return CHR_EXIT_USAGE;
        } else {
            fprintf(stderr, "chronos store %s: unexpected argument '%s' (see --help)\n", argv[1],
                    a);
            return CHR_EXIT_USAGE;
        }
    }
    return -1;
}

static const char *state_name(enum chr_store_file_state s)
{
    switch (s) {
    case CHR_STORE_FILE_OK: return "ok";
    case CHR_STORE_FILE_STALE: return "stale";
    case CHR_STORE_FILE_TORN: return "torn";
    case CHR_STORE_FILE_DAMAGED: return "DAMAGED";
    case CHR_STORE_FILE_AFTER: return "after";
    }
    return "?";
}

/* "records 121-180" or "no records". */
static const char *seqs(const struct chr_store_file_report *f, char *buf, size_t size)
{
    if (f->records == 0)
        snprintf(buf, size, "no records");
    else
        snprintf(buf, size, "records %" PRIu64 "-%" PRIu64, f->first_seq, f->last_seq);
    return buf;
}

static void print_file(const struct chr_store_file_report *f)
{
    char s[64];
    printf("  %-22s %-8s ", f->name, state_name(f->state));
    if (strcmp(f->name, "snap") == 0 && f->state == CHR_STORE_FILE_OK)
        printf("the state as of record %" PRIu64 ": %" PRIu64 " nodes", f->last_seq, f->records);
    else if (strcmp(f->name, "snap") == 0)
        printf("unreadable");
    else
        printf("%s", seqs(f, s, sizeof s));
    printf(", %" PRIu64 " bytes", f->bytes);
    if (f->state == CHR_STORE_FILE_TORN)
        printf("\n      at offset %" PRIu64 ", %s: a write a crash interrupted, which the next "
               "open cuts off", f->bad_offset, f->what);
    else if (f->state == CHR_STORE_FILE_DAMAGED || f->what[0] != '\0')
        printf("\n      at offset %" PRIu64 ", %s", f->bad_offset, f->what);
    else if (f->state == CHR_STORE_FILE_AFTER)
        printf(": after the damage, never replayed");
    printf("\n");
}

/* "records 1-N" of a history, or "no records". */
static const char *history(uint64_t seq, char *buf, size_t size)
{
    if (seq == 0)
        snprintf(buf, size, "no records");
    else
        snprintf(buf, size, "records 1-%" PRIu64, seq);
    return buf;
}

/* "wal.X, wal.Y" of the files recover sets aside. */
static void print_to_set_aside(const struct chr_store_report *r)
{
    const char *sep = "";
    for (size_t i = 0; i < r->n; i++) {
        enum chr_store_file_state s = r->files[i].state;
        if (s == CHR_STORE_FILE_DAMAGED || s == CHR_STORE_FILE_AFTER) {
            printf("%s%s", sep, r->files[i].name);
            sep = ", ";
        }
    }
}

static void print_lost(const struct chr_store_report *r, const char *lead)
{
    if (r->seen_seq > r->kept_seq)
        printf("%srecords %" PRIu64 "-%" PRIu64 " (%" PRIu64 " records)\n", lead,
               r->kept_seq + 1, r->seen_seq, r->seen_seq - r->kept_seq);
    else
        printf("%sthe damaged bytes: at least record %" PRIu64 "\n", lead, r->kept_seq + 1);
}

static int check(const char *data_dir, const char *dir)
{
    struct chr_store_report *r = NULL;
    struct chr_error err;
    enum chr_err e = chr_store_check_local(dir, &r, &err);
    if (e != CHR_OK) {
        fprintf(stderr, "chronos store check: %s\n", err.message[0] ? err.message
                                                                   : chr_err_message(e));
        return CHR_EXIT_BAD_VALUE;
    }
    printf("store %s", dir);
    if (r->holder_pid != 0)
        printf(" (open in process %ld: what it is writing may show as a torn tail)",
               r->holder_pid);
    printf("\n");
    for (size_t i = 0; i < r->n; i++)
        print_file(&r->files[i]);
    int status = CHR_EXIT_OK;
    char h[48];
    if (!r->damaged) {
        printf("healthy: %s, a tree of %" PRIu64 " nodes%s\n", history(r->kept_seq, h, sizeof h),
               r->nodes, r->torn ? " once the torn tail is cut" : "");
    } else {
        printf("DAMAGED: an open refuses.  Intact before the damage: %s.\n",
               history(r->kept_seq, h, sizeof h));
        print_lost(r, "recover would lose ");
        printf("`chronos store recover --data_dir %s` sets aside ", data_dir);
        print_to_set_aside(r);
        printf(r->kept_seq > 0 ? " and keeps the rest\n" : " and leaves an empty store\n");
        status = CHR_EXIT_BAD_VALUE;
    }
    chr_store_report_free(r);
    return status;
}

/* The UTC time as 20250101T120000Z, for the names of set-aside files. */
static void utc_stamp(char out[24])
{
    struct chr_civil c;
    chr_ms_to_civil(chr_clock_wall_ms() / 1000 * 1000, &c);
    snprintf(out, 24, "%04d%02d%02dT%02d%02d%02dZ", (int)c.year, c.month, c.day, c.hour,
             c.minute, c.second);
}

static void print_recovered(const struct chr_store_report *r, const char *dir)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->files[i].state == CHR_STORE_FILE_DAMAGED) {
            printf("store %s was damaged: %s at offset %" PRIu64 ", %s\n", dir,
                   r->files[i].name, r->files[i].bad_offset, r->files[i].what);
            break;
        }
    }
    char h[48];
    printf("  kept: %s (a tree of %" PRIu64 " nodes)\n", history(r->kept_seq, h, sizeof h),
           r->nodes);
    print_lost(r, "  lost: ");
    for (size_t i = 0; i < r->n; i++)
        if (r->files[i].aside[0] != '\0')
            printf("  set aside: %s -> %s%s\n", r->files[i].name, r->files[i].aside,
                   r->files[i].state == CHR_STORE_FILE_DAMAGED && r->files[i].bad_offset > 0 &&
                           strcmp(r->files[i].name, "snap") != 0
                       ? " (its intact records stay, in a new copy under the old name)"
                       : "");
    printf("the store opens again; the files set aside are never read, keep them until you no "
           "longer need them\n");
}

static int recover(const char *dir)
{
    char stamp[24];
    utc_stamp(stamp);
    struct chr_store_report *r = NULL;
    struct chr_error err;
    enum chr_err e = chr_store_recover_local(dir, stamp, &r, &err);
    if (e != CHR_OK) {
        fprintf(stderr, "chronos store recover: %s\n", err.message[0] ? err.message
                                                                     : chr_err_message(e));
        return CHR_EXIT_BAD_VALUE;
    }
    char h[48];
    if (!r->damaged)
        printf("store %s is not damaged (%s): nothing to recover\n", dir,
               history(r->kept_seq, h, sizeof h));
    else
        print_recovered(r, dir);
    chr_store_report_free(r);
    return CHR_EXIT_OK;
}

static int compact(const char *dir)
{
    struct chr_store *s = NULL;
    struct chr_error err;
    enum chr_err e = chr_store_open_local(dir, NULL, &s, &err);
    if (e == CHR_OK && err.message[0] != '\0')
        printf("%s\n", err.message);
    if (e == CHR_OK && (e = chr_store_checkpoint(s)) != CHR_OK)
        chr_error_set(&err, e, dir, "the snapshot could not be written");
    struct chr_store_stats st = {0};
    if (s != NULL)
        chr_store_stats(s, &st);
    chr_store_close(s);
    if (e != CHR_OK) {
        fprintf(stderr, "chronos store compact: %s\n", err.message[0] ? err.message
                                                                     : chr_err_message(e));
        return CHR_EXIT_BAD_VALUE;
    }
    char h[48];
    printf("store %s: a snapshot of %s (%" PRIu64 " nodes), a new log\n", dir,
           history(st.seq, h, sizeof h), st.nodes);
    return CHR_EXIT_OK;
}

int chr_cli_store(int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(store_help, stdout);
        return CHR_EXIT_OK;
    }
    if (strcmp(sub, "check") != 0 && strcmp(sub, "recover") != 0 && strcmp(sub, "compact") != 0) {
        fprintf(stderr, "chronos store: expected check, recover or compact%s%s (see --help)\n",
                sub[0] ? ", not " : "", sub);
        return CHR_EXIT_USAGE;
    }
    const char *data_dir = NULL;
    int status = parse_args(argc, argv, &data_dir);
    if (status >= 0)
        return status;
    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%s/store", data_dir);
    if (n < 0 || (size_t)n >= sizeof dir) {
        fprintf(stderr, "chronos store %s: data_dir: path too long\n", sub);
        return CHR_EXIT_USAGE;
    }
    if (strcmp(sub, "check") == 0)
        return check(data_dir, dir);
    return strcmp(sub, "recover") == 0 ? recover(dir) : compact(dir);
}
