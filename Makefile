# chronos - a distributed cron for clusters.
#
#   make          build build/chronos (installs missing Debian packages first)
#   make run      build and start the server on 127.0.0.1:4400 (data in ./data)
#   make test     every test: unit (cmocka) plain and under ASan+UBSan, CLI,
#                 the time oracle, a short fuzz run; ends with "N passed, N failed"
#   make fuzz     the fuzz targets for longer (FUZZ_SECONDS=300)
#   make faults   fault trials on a 3-server cluster and ZooKeeper (TRIALS=20)
#   make bench    benchmarks under bench/ (print figures, never pass/fail)
#   make lint     banned functions and raw allocation outside their owners
#
# Three builds of the same sources: build/rel (the binary users run),
# build/test (-DCHR_TESTING, for allocation-failure injection) and build/asan
# (the test build under AddressSanitizer + UndefinedBehaviorSanitizer).

CC      ?= gcc
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wformat=2 -Werror
DEFS    := -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -DTHREADED
INC     := -I.
LIBS    := -lmicrohttpd -ljansson -lcurl -lzookeeper_mt -lpthread -lm
REL_CFLAGS  := $(WARN) $(DEFS) $(INC) -O2 -g
TEST_CFLAGS := $(WARN) $(DEFS) $(INC) -O1 -g -DCHR_TESTING
SAN         := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CFLAGS := $(TEST_CFLAGS) $(SAN)

B := build
PARTS    := common iso8601 scheduler zkstore offers api server
LIB_SRC  := $(sort $(foreach p,$(PARTS),$(wildcard $(p)/*.c)))
CLI_SRC  := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRC))
HDRS     := $(foreach p,$(PARTS) cli,$(wildcard $(p)/*.h))

REL_OBJ  := $(patsubst %.c,$(B)/rel/%.o,$(LIB_SRC))
TEST_OBJ := $(patsubst %.c,$(B)/test/%.o,$(LIB_SRC))
ASAN_OBJ := $(patsubst %.c,$(B)/asan/%.o,$(LIB_SRC))

.PHONY: all deps run test unit lint fuzz bench sim faults clean
.DEFAULT_GOAL := all

all: deps $(B)/chronos

deps:
	@scripts/deps.sh

$(B)/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@
$(B)/test/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -c $< -o $@
$(B)/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(B)/rel/libchr.a: $(REL_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/test/libchr.a: $(TEST_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/asan/libchr.a: $(ASAN_OBJ)
	@rm -f $@; ar rcs $@ $^

$(B)/chronos: $(patsubst %.c,$(B)/rel/%.o,$(CLI_SRC)) $(B)/rel/libchr.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)
# The test build of the binary (fault hooks such as SIGUSR2 session expiry),
# without the sanitizers' cost: the fault trials run it.
$(B)/test/chronos: $(patsubst %.c,$(B)/test/%.o,$(CLI_SRC)) $(B)/test/libchr.a
	$(CC) $(TEST_CFLAGS) -o $@ $^ $(LIBS)
# The same binary under the sanitizers, so CLI-level tests run under them too.
$(B)/asan/chronos: $(patsubst %.c,$(B)/asan/%.o,$(CLI_SRC)) $(B)/asan/libchr.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

$(B)/test/unit/%: tests/unit/%.c $(B)/test/libchr.a $(wildcard tests/unit/*.h tests/unit/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(B)/test/libchr.a -lcmocka $(LIBS)
$(B)/asan/unit/%: tests/unit/%.c $(B)/asan/libchr.a $(wildcard tests/unit/*.h tests/unit/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $< $(B)/asan/libchr.a -lcmocka $(LIBS)

UNIT_BINS := $(addprefix $(B)/test/unit/,$(UNIT_NAMES)) $(addprefix $(B)/asan/unit/,$(UNIT_NAMES))

# Deterministic simulations of the core: tests/sim/*.c, each a program with
# main() that prints "N passed, N failed" (N = seeds).  `make sim SEEDS=N`.
SIM_SRC   := $(sort $(wildcard tests/sim/*.c))
SIM_NAMES := $(patsubst tests/sim/%.c,%,$(SIM_SRC))
SIM_BINS  := $(addprefix $(B)/test/sim/,$(SIM_NAMES)) $(addprefix $(B)/asan/sim/,$(SIM_NAMES))
$(B)/test/sim/%: tests/sim/%.c $(B)/test/libchr.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(B)/test/libchr.a $(LIBS)
$(B)/asan/sim/%: tests/sim/%.c $(B)/asan/libchr.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $< $(B)/asan/libchr.a $(LIBS)

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_CFLAGS := -std=c11 $(DEFS) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The parser targets need only the time engine (and common/).
FUZZ_LIB_SRC := $(sort $(wildcard common/*.c iso8601/*.c))
$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC) $(HDRS) tests/fuzz/fuzz_check.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) -lm -lpthread

# The HTTP request path (fuzz_http): the API's real transport and routes on
# libmicrohttpd, in front of a fake scheduler loop (the target defines it), so
# everything but the loop, the cluster wiring and the stores.
FUZZ_HTTP_SRC := $(filter-out server/loop.c server/ha.c server/packs.c server/packs_load.c \
                   zkstore/%,$(LIB_SRC))
FUZZ_OBJ_CFLAGS := -std=c11 $(DEFS) $(INC) -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
                   -fno-sanitize-recover=all
$(B)/fuzzobj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_OBJ_CFLAGS) -c $< -o $@
$(B)/fuzz/fuzz_http: tests/fuzz/fuzz_http.c $(patsubst %.c,$(B)/fuzzobj/%.o,$(FUZZ_HTTP_SRC)) \
                     tests/fuzz/fuzz_check.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(patsubst %.c,$(B)/fuzzobj/%.o,$(FUZZ_HTTP_SRC)) $(LIBS)

FUZZ_SECONDS ?= 300
SMOKE_FUZZ_SECONDS ?= 15

# The server in the foreground on the embedded defaults: local store and local
# resource manager under ./data, API on 127.0.0.1:4400, a log line per event.
run: all
	@$(B)/chronos serve --data_dir data

test: deps $(B)/chronos $(B)/test/chronos $(B)/asan/chronos $(UNIT_BINS) $(SIM_BINS) $(FUZZ_BINS)
	@B=$(B) SMOKE_FUZZ_SECONDS=$(SMOKE_FUZZ_SECONDS) scripts/run-tests.sh

unit: deps $(UNIT_BINS)
	@B=$(B) ONLY=unit scripts/run-tests.sh

SEEDS ?= 200
sim: deps $(B)/test/sim/sim_core
	@$(B)/test/sim/sim_core --seeds $(SEEDS)

# Fault trials against a 3-server cluster on a real ZooKeeper (tests/faults).
TRIALS ?= 20
faults: deps $(B)/test/chronos
	@TRIALS=$(TRIALS) CHRONOS=$(B)/test/chronos bash tests/faults/run.sh

lint:
	@scripts/lint.sh

fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); mkdir -p $(B)/fuzz/corpus/$$n; \
	  echo "== $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(B)/fuzz/corpus/$$n tests/fuzz/seeds/$$n || exit 1; \
	done

bench: deps $(B)/chronos
	@bench/next/run.sh
	@bench/store/run.sh
	@bench/api/run.sh
	@bench/zk/run.sh

clean:
	rm -rf $(B)
