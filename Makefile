# The two commands of the README. Both are idempotent and start from a fresh machine.
#   make run   installs what is missing, builds the binary, and runs the main job on ./data
#   make test  installs what is missing, builds, runs the whole test suite, then every
#              fuzzer for FUZZ_SECONDS each (clang with ASan + UBSan, in build-asan)
# CI (.ci/run) adds make test-asan (the whole suite in that same instrumented build, so it
# is compiled once) and make test-tsan (the store and crash tests with TSan). make fuzz runs
# longer.
BUILD ?= build
JOBS  ?= $(shell nproc)
DATA  ?= data
FUZZ_SECONDS ?= 20
export JOBS

.PHONY: run test build setup setup-tests clean fuzz fuzz-build fuzz-smoke test-asan test-tsan crash

setup:
	@bash tools/setup.sh

# The tests also want the npm packages of tests/mcp (the MCP SDK as a client).
setup-tests:
	@bash tools/setup.sh --tests

build: setup-tests
	@bash tools/build.sh $(BUILD)

# The binary alone: the first output of a fresh machine does not wait for the test suite.
run: setup
	@bash tools/build.sh $(BUILD) leanos
	@bash tools/run.sh $(BUILD)/tools/leanos $(DATA)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke

# The long power-cut soak (make test runs 150 cuts): CUTS simulated power cuts under load,
# every acknowledged event checked after each; a failure prints the seed that replays it.
CUTS ?= 10000
crash: setup
	@bash tools/build.sh $(BUILD) leanos
	$(BUILD)/tools/leanos bench crash --cuts $(CUTS)

# One instrumented build (clang, ASan + UBSan, libFuzzer coverage) for the fuzzers and for
# test-asan: make test compiles what the fuzzers need, test-asan the rest.
ASAN_BUILD = build-asan
ASAN_CONFIG = -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DLEANOS_SANITIZE=address

fuzz-build: setup
	@bash tools/build.sh $(ASAN_BUILD) fuzzers $(ASAN_CONFIG)

fuzz-smoke: fuzz-build
	bash tools/fuzz.sh $(ASAN_BUILD) $(FUZZ_SECONDS)

fuzz: fuzz-build
	bash tools/fuzz.sh $(ASAN_BUILD) $(if $(filter 20,$(FUZZ_SECONDS)),600,$(FUZZ_SECONDS))

# The stalled-subscriber test bounds the server's RSS: under ASan, shadow memory and the
# allocation quarantine dominate RSS, so it runs in the plain build only.
test-asan: setup-tests
	@bash tools/build.sh $(ASAN_BUILD) all $(ASAN_CONFIG)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tests/sanitizers/ubsan.supp \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp LEANOS_FUSE_CUTS=20 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -E 'memory stays bounded'

# TSan runs the tests whose threads are ours and RocksDB's: the store (group commit, the
# live feed, reads beside writes) and the crash test. The actor and server tests hand data
# between threads inside CAF 0.17 and gRPC 1.51, which Debian builds without TSan: it reports
# every such hand-over as a race (hundreds of stacks), so those run under ASan and the soak
# test instead. Protobuf 3.21's map code crashes inside its arena cleanup under TSan alone
# (a signal in SerialArena::CleanupList, no race reported): the store case that builds a
# Struct map, and, since Envelope has a metadata map, the two cases that parse envelopes on
# an arena (verify of a garbled value, the pipelined scan). ASan and the plain build run them.
test-tsan: setup
	@bash tools/build.sh build-tsan "store_test store_open_test store_refusals_test crash_test" -DLEANOS_SANITIZE=thread
	cd build-tsan && TSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/tsan.supp:halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -R '^(store_test|store_open_test|store_refusals_test|crash_test):' -E 'refuses a string that is not UTF-8|verify reports a value overwritten with garbage|the pipelined scan yields exactly'

clean:
	rm -rf $(BUILD) build-fuzz $(ASAN_BUILD) build-tsan
