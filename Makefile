# chronos - a distributed cron for clusters.
#
#   make          build build/chronos (installs missing Debian packages first)
#   make run      build and start the server on 127.0.0.1:4400 (data in ./data)
#   make test     every test: unit (cmocka) plain and under ASan+UBSan, CLI,
#                 the time oracle, a short fuzz run; ends with "N passed, N failed"
#   make fuzz     the fuzz targets for longer (FUZZ_SECONDS=300)
#   make faults   fault trials on a 3-server cluster and ZooKeeper, then on one
#                 server whose disk fills, then on Mesos (the master double) (TRIALS=20 each)
#   make bench    every benchmark under bench/ (print figures, never pass/fail;
#                 about 25 minutes; docs/benchmarks.md has their last figures)
#   make bench-quick  a smoke run of each (small sizes, short windows)
#   make lint     banned functions and raw allocation outside their owners
#
# Three builds of the same sources: build/rel (the binary users run),
# build/test (-DCHR_TESTING, for allocation-failure injection) and build/asan
# (the test build under AddressSanitizer + UndefinedBehaviorSanitizer).

CC      ?= gcc
# Both cores (or all): builds in parallel unless told otherwise (make -j1).
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wformat=2 -Werror
DEFS    := -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -DTHREADED
INC     := -I.
LIBS    := -lmicrohttpd -ljansson -lcurl -lzookeeper_mt -lpthread -lm
REL_CFLAGS  := $(WARN) $(DEFS) $(INC) -O2 -g
# The test builds keep line tables only (-g1: every sanitizer report and
# backtrace still names function, file and line), which compiles about a
# third faster than -g; `make TEST_DEBUG=-g` for a build to step through.
TEST_DEBUG  ?= -g1
TEST_CFLAGS := $(WARN) $(DEFS) $(INC) -O1 $(TEST_DEBUG) -DCHR_TESTING
SAN         := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CFLAGS := $(TEST_CFLAGS) $(SAN)
# The test builds link with gold (binutils, beside the default ld): about
# 0.2 CPU-s less per binary, and `make test` links some 140 of them.
TEST_LD     ?= -fuse-ld=gold
# The sanitizers' runtimes linked in (not loaded as shared libraries): the
# same checks, and each ASan process starts with about a quarter less CPU
# (no symbol lookups of the runtime at load) - the tests start over a
# thousand of them.
ASAN_LD     := $(TEST_LD) -static-libasan -static-libubsan

B := build
# The one version: `chronos --version`, `chronos version` and /v1/status all
# show it (the CLI's objects get it as CHR_VERSION).
VERSION := 0.2.0
# make install: the binary, the man page, shell completions, the example
# config and the systemd unit, under DESTDIR/PREFIX.
PREFIX  ?= /usr/local
DESTDIR ?=
PARTS    := common iso8601 scheduler zkstore offers offers/mesos api server
LIB_SRC  := $(sort $(foreach p,$(PARTS),$(wildcard $(p)/*.c)))
# The web dashboard as a C table (api/assets.h), generated from the committed
# bundle api/dashboard/dist/ (rebuilt first with npm when its sources
# changed and npm can; see scripts/dashboard.sh): the C build needs no npm.
DASH_GEN := $(B)/gen/api/dashboard_assets.c
LIB_SRC  += $(DASH_GEN)
CLI_SRC  := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c tests/unit/*/*/test_*.c))
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRC))

REL_OBJ  := $(patsubst %.c,$(B)/rel/%.o,$(LIB_SRC))
TEST_OBJ := $(patsubst %.c,$(B)/test/%.o,$(LIB_SRC))
ASAN_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(LIB_SRC))

.PHONY: all deps npm-deps run test test-servers test-bins unit lint fuzz fuzz-seeds bench bench-quick sim faults clean demo-cluster FORCE man install
.DEFAULT_GOAL := all

all: deps npm-deps $(B)/chronos $(B)/chronos-server $(B)/chronos-run-task $(B)/chronos.1

# The man page, written from the binary's own help texts (so they cannot
# disagree); docs/chronos.1 is the committed copy (`man ./docs/chronos.1`).
$(B)/chronos.1: $(B)/chronos $(B)/chronos-server scripts/manpage.sh
	@scripts/manpage.sh $(B)/chronos $(VERSION) >$@
man: $(B)/chronos.1
	@cp $(B)/chronos.1 docs/chronos.1

install: all
	install -D -m 0755 $(B)/chronos $(DESTDIR)$(PREFIX)/bin/chronos
	install -D -m 0755 $(B)/chronos-server $(DESTDIR)$(PREFIX)/bin/chronos-server
	install -D -m 0755 $(B)/chronos-run-task $(DESTDIR)$(PREFIX)/bin/chronos-run-task
	install -D -m 0644 $(B)/chronos.1 $(DESTDIR)$(PREFIX)/share/man/man1/chronos.1
	$(B)/chronos completion bash >$(B)/chronos.bash
	$(B)/chronos completion zsh >$(B)/_chronos
	install -D -m 0644 $(B)/chronos.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/chronos
	install -D -m 0644 $(B)/_chronos $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_chronos
	install -D -m 0644 examples/chronos.conf $(DESTDIR)$(PREFIX)/share/doc/chronos/chronos.conf.example
	sed 's|@BINDIR@|$(PREFIX)/bin|g' examples/chronos.service >$(B)/chronos.service
	install -D -m 0644 $(B)/chronos.service $(DESTDIR)$(PREFIX)/lib/systemd/system/chronos.service

# The Debian packages; npm-deps the dashboard's npm packages (the browser
# tests need them, the build does not: they install beside the compiles).
deps:
	@scripts/deps.sh apt
npm-deps: deps
	@scripts/deps.sh npm

FORCE:
# Run every time; rewrites the table only when the dashboard changed.  After
# npm-deps: a bundle rebuilt here must not npm ci at the same time.
$(DASH_GEN): FORCE | npm-deps
	@scripts/dashboard.sh $@

# Each object (and test binary) depends on the headers it includes, as the
# compiler lists them (-MMD -MP): editing a header rebuilds its users only.
# Everything waits for deps (order-only: it installs, it makes nothing).
DEP = -MMD -MP -MF $@.d
$(B)/rel/cli/%.o $(B)/test/cli/%.o $(B)/asan/cli/%.o: CLI_DEFS := -DCHR_VERSION='"$(VERSION)"'
$(B)/rel/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(CLI_DEFS) $(DEP) -c $< -o $@
$(B)/test/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(CLI_DEFS) $(DEP) -c $< -o $@
$(B)/asan/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(CLI_DEFS) $(DEP) -c $< -o $@

$(B)/rel/libchr.a: $(REL_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/test/libchr.a: $(TEST_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/asan/libchr.a: $(ASAN_OBJ)
	@rm -f $@; ar rcs $@ $^

# Two binaries of the command line: `chronos`, every command but the server,
# linked with the C library and jansson only (its HTTP is its own; libcurl is
# loaded for https:// alone), so that a script's `chronos list` starts in a
# few milliseconds; and `chronos-server`, the same commands and the server
# with its libraries, which `chronos serve` becomes (cli/serve_exec.c).
CLI_BASE := $(filter-out cli/serve.c cli/serve_exec.c,$(CLI_SRC))
CLI_LIBS := -ljansson -lpthread -lm
$(B)/chronos: $(patsubst %.c,$(B)/rel/%.o,$(CLI_BASE) cli/serve_exec.c) $(B)/rel/libchr.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(CLI_LIBS)
$(B)/chronos-server: $(patsubst %.c,$(B)/rel/%.o,$(CLI_BASE) cli/serve.c) $(B)/rel/libchr.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)
# The supervisor of local runs alone (cli/task/main.c): the C library only,
# so that each launch loads no TLS, HTTP or ZooKeeper library.  The server
# runs the one beside its own binary (else itself, `chronos run-task`).
TASK_SRC := cli/task/main.c cli/run_task.c
TASK_BINS := $(B)/chronos-run-task $(B)/test/chronos-run-task $(B)/asan/chronos-run-task
$(B)/chronos-run-task: $(patsubst %.c,$(B)/rel/%.o,$(TASK_SRC)) $(B)/rel/libchr.a
	$(CC) $(REL_CFLAGS) -Wl,--as-needed -o $@ $^ -ljansson -lpthread
$(B)/test/chronos-run-task: $(patsubst %.c,$(B)/test/%.o,$(TASK_SRC)) $(B)/test/libchr.a
	$(CC) $(TEST_CFLAGS) $(TEST_LD) -Wl,--as-needed -o $@ $^ -ljansson -lpthread
$(B)/asan/chronos-run-task: $(patsubst %.c,$(B)/asan/%.o,$(TASK_SRC)) $(B)/asan/libchr.a
	$(CC) $(ASAN_CFLAGS) $(ASAN_LD) -Wl,--as-needed -o $@ $^ -ljansson -lpthread
# The test build of the binary (fault hooks such as SIGUSR2 session expiry),
# without the sanitizers' cost: the fault trials run it.
$(B)/test/chronos: $(patsubst %.c,$(B)/test/%.o,$(CLI_BASE) cli/serve_exec.c) $(B)/test/libchr.a
	$(CC) $(TEST_CFLAGS) $(TEST_LD) -o $@ $^ $(CLI_LIBS)
$(B)/test/chronos-server: $(patsubst %.c,$(B)/test/%.o,$(CLI_BASE) cli/serve.c) $(B)/test/libchr.a
	$(CC) $(TEST_CFLAGS) $(TEST_LD) -o $@ $^ $(LIBS)
# The same binaries under the sanitizers, so CLI-level tests run under them too.
$(B)/asan/chronos: $(patsubst %.c,$(B)/asan/%.o,$(CLI_BASE) cli/serve_exec.c) $(B)/asan/libchr.a
	$(CC) $(ASAN_CFLAGS) $(ASAN_LD) -o $@ $^ $(CLI_LIBS)
$(B)/asan/chronos-server: $(patsubst %.c,$(B)/asan/%.o,$(CLI_BASE) cli/serve.c) $(B)/asan/libchr.a
	$(CC) $(ASAN_CFLAGS) $(ASAN_LD) -o $@ $^ $(LIBS)

$(B)/test/unit/%: tests/unit/%.c $(B)/test/libchr.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(TEST_LD) $(DEP) -o $@ $< $(B)/test/libchr.a -lcmocka $(LIBS)
$(B)/asan/unit/%: tests/unit/%.c $(B)/asan/libchr.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(ASAN_LD) $(DEP) -o $@ $< $(B)/asan/libchr.a -lcmocka $(LIBS)

UNIT_BINS := $(addprefix $(B)/test/unit/,$(UNIT_NAMES)) $(addprefix $(B)/asan/unit/,$(UNIT_NAMES))

# Deterministic simulations of the core: tests/sim/*.c, each a program with
# main() that prints "N passed, N failed" (N = seeds).  `make sim SEEDS=N`.
SIM_SRC   := $(sort $(wildcard tests/sim/*.c))
SIM_NAMES := $(patsubst tests/sim/%.c,%,$(SIM_SRC))
SIM_BINS  := $(addprefix $(B)/test/sim/,$(SIM_NAMES)) $(addprefix $(B)/asan/sim/,$(SIM_NAMES))
$(B)/test/sim/%: tests/sim/%.c $(B)/test/libchr.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(TEST_LD) $(DEP) -o $@ $< $(B)/test/libchr.a $(LIBS)
$(B)/asan/sim/%: tests/sim/%.c $(B)/asan/libchr.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(ASAN_LD) $(DEP) -o $@ $< $(B)/asan/libchr.a $(LIBS)

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c.  Each links the library
# built by clang with coverage (fuzzer-no-link) and the same warnings, so a
# target takes the parts it calls: the time engine, the store's readers, the
# codecs of job, state and run nodes, packs and run-directory records.
# FZ: where they are built; FUZZ_OPT: their optimisation.  `make fuzz`
# builds them in build/fuzz at -O1 (fast runs); `make test`, whose smoke
# run is bounded by time, not by how much it covers, in build/fuzz-smoke at
# -O0 (half the compile: some 20 CPU-s of a fresh `make test`).
FZ       ?= $(B)/fuzz
FUZZ_OPT ?= -O1
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FZ)/%,$(FUZZ_SRC))
FUZZ_CFLAGS := $(WARN) $(DEFS) $(INC) $(TEST_DEBUG) $(FUZZ_OPT) -fsanitize=address,undefined -fno-sanitize-recover=all
# Only the objects a target can link: the parts no target reaches (the
# server's loop and resource managers, the stores' writers and ZooKeeper,
# the Mesos client) are not compiled a fourth time; the targets are the same
# binaries (the linker took nothing of them from the archive).  A target
# that needs one of them fails to link, naming it: take it off this list.
FUZZ_UNUSED := $(addprefix offers/,local.c local_collect.c local_supervise.c local_sweep.c \
  local_watch.c mesos/client.c mesos/master.c mesos/status.c mesos/task.c mesos/task_container.c) \
  $(addprefix server/,ha.c loop.c notify.c rm_json.c rm_local.c rm_mesos.c run_output.c \
  run_output_mesos.c solo.c) \
  $(addprefix zkstore/,local.c local_check.c local_commit.c local_recover.c packs.c packs_load.c \
  store.c zk_election.c zk_session.c zk_store.c)
FUZZ_OBJ := $(patsubst %.c,$(FZ)/obj/%.o,$(filter-out $(FUZZ_UNUSED),$(LIB_SRC)))
$(FZ)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(DEP) -fsanitize=fuzzer-no-link -c $< -o $@
$(FZ)/libchr.a: $(FUZZ_OBJ)
	@rm -f $@; ar rcs $@ $^
$(FZ)/%: tests/fuzz/%.c $(FZ)/libchr.a
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(DEP) -fsanitize=fuzzer -o $@ $< $(FZ)/libchr.a $(LIBS)

# Seeds of the decoder targets, written by the production encoders
# (tests/fuzz/gen_seeds.c); run after a format changes, commit the result.
$(B)/test/gen_seeds: tests/fuzz/gen_seeds.c $(B)/test/libchr.a
	$(CC) $(TEST_CFLAGS) $(TEST_LD) $(DEP) -o $@ $< $(B)/test/libchr.a $(LIBS)
fuzz-seeds: $(B)/test/gen_seeds
	$(B)/test/gen_seeds tests/fuzz/seeds

# The HTTP request path (fuzz_http): the API's real transport and routes on
# libmicrohttpd, in front of a fake scheduler (the target fills api/sched.h's
# table): the API alone, linked without the server, the stores or a resource
# manager, which also shows the API needs none of them.
FUZZ_HTTP_SRC := $(filter-out server/% zkstore/% offers/%,$(LIB_SRC))
FUZZ_HTTP_OBJ := $(patsubst %.c,$(FZ)/obj/%.o,$(FUZZ_HTTP_SRC))
$(FZ)/fuzz_http: tests/fuzz/fuzz_http.c $(FUZZ_HTTP_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(DEP) -fsanitize=fuzzer -o $@ $< $(FUZZ_HTTP_OBJ) $(LIBS)

FUZZ_SECONDS ?= 300
# make test: the time engine's targets for SMOKE_FUZZ_SECONDS each, the
# decoders' and the HTTP path's for SMOKE_FUZZ_DECODER_SECONDS (fourteen
# targets, 34 core-seconds in all: a smoke run over the seeds and a little
# beyond; each holds a core for its whole time, so it is kept short).
# `make fuzz` runs each for FUZZ_SECONDS.
SMOKE_FUZZ_SECONDS ?= 4
SMOKE_FUZZ_DECODER_SECONDS ?= 2

# The server in the foreground on the embedded defaults: local store and local
# resource manager under ./data, API on 127.0.0.1:4400, a log line per event.
run: all
	@$(B)/chronos serve --data_dir data

# The release binary first; run-tests.sh starts the suites that need only
# it while it builds the rest in two stages (BUILD_SERVERS: the test and
# ASan builds of the server, then BUILD_REST: the unit, simulation and fuzz
# binaries; their log in $(B)/test-logs/build.log), so the tests that mostly
# wait overlap the compiles.
TEST_BINS := $(UNIT_BINS) $(SIM_BINS) $(FUZZ_BINS)
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))
test: deps npm-deps $(B)/chronos $(B)/chronos-server $(B)/chronos-run-task
	@B=$(B) UNITS="$(UNIT_NAMES)" SIMS="$(SIM_NAMES)" FUZZES="$(FUZZ_NAMES)" \
	  BUILD_SERVERS="$(MAKE) --no-print-directory test-servers" \
	  BUILD_REST="$(MAKE) --no-print-directory test-bins FZ=$(B)/fuzz-smoke FUZZ_OPT=-O0" \
	  FUZZ_DIR=$(B)/fuzz-smoke \
	  SMOKE_FUZZ_SECONDS=$(SMOKE_FUZZ_SECONDS) \
	  SMOKE_FUZZ_DECODER_SECONDS=$(SMOKE_FUZZ_DECODER_SECONDS) scripts/run-tests.sh
test-servers: deps $(B)/test/chronos $(B)/asan/chronos $(B)/test/chronos-server $(B)/asan/chronos-server $(TASK_BINS)
test-bins: deps $(TEST_BINS)

unit: deps $(UNIT_BINS)
	@B=$(B) UNITS="$(UNIT_NAMES)" ONLY=unit scripts/run-tests.sh

SEEDS ?= 200
sim: deps $(B)/test/sim/sim_core
	@$(B)/test/sim/sim_core --seeds $(SEEDS)

# Fault trials against a 3-server cluster on a real ZooKeeper (tests/faults).
TRIALS ?= 20
faults: deps $(B)/test/chronos $(B)/test/chronos-server
	@TRIALS=$(TRIALS) CHRONOS=$(B)/test/chronos bash tests/faults/run.sh
	@TRIALS=$(TRIALS) CHRONOS=$(B)/test/chronos bash tests/faults/local.sh
	@TRIALS=$(TRIALS) CHRONOS=$(B)/test/chronos bash tests/faults/mesos.sh

# The cluster story on this machine: ZooKeeper, a Mesos master (the test
# double) with two agents, and chronos running the README's example on them.
demo-cluster: all
	@bash examples/demo-cluster.sh $(B)/chronos

lint:
	@scripts/lint.sh

fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); mkdir -p $(FZ)/corpus/$$n; \
	  echo "== $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FZ)/corpus/$$n tests/fuzz/seeds/$$n || exit 1; \
	done

# Every benchmark, each bench/<name>/run.sh in turn; one that cannot run
# does not stop the others (the list of those that failed ends the output,
# and make fails then).  bench-quick: the same with BENCH_QUICK=1.
BENCHES := next store core api scheduler zk mesos dashboard supervisor peers million
bench: deps $(B)/chronos $(B)/chronos-run-task
	@B=$(B) scripts/bench.sh $(BENCHES)
bench-quick: deps $(B)/chronos $(B)/chronos-run-task
	@B=$(B) BENCH_QUICK=1 scripts/bench.sh $(BENCHES)

clean:
	rm -rf $(B)

# The header dependencies the compiler wrote (DEP above).
-include $(shell find $(B) -name '*.d' 2>/dev/null)
