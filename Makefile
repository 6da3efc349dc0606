# Thin wrapper over CMake. `make demo` and `make check` work on a fresh Debian 12 machine.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo check test bench sanitize sanitize-unit fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

# The release binary: build/forage (static, LTO, stripped).
build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Runs the main job on an embedded default: indicators from an example CSIRT broadcast.
demo: build
	@echo "== forage ioc parse docs/examples/broadcast.eml --format tsv"
	@$(BUILD)/forage ioc parse docs/examples/broadcast.eml --format tsv
	@echo
	@echo "== forage version"
	@$(BUILD)/forage version

# Every test: unit, integration (root-labelled ones too: CI runs as root), fuzz corpora.
check: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test: check

bench: build
	bench/run-all.sh

# ASan + UBSan build of everything, tests included (not static).
sanitize: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORAGE_SANITIZE=ON
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS)

# ASan + UBSan build of the libraries, the unit tests and the fuzz harnesses only, then the unit
# tests and every fuzz corpus replayed under the sanitizers (.ci/run). Shares build-asan with
# `make sanitize` (ASAN_BUILD=DIR for another).
ASAN_BUILD ?= build-asan
sanitize-unit: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORAGE_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS) --target unit-tests fuzzers
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -L 'unit|fuzz'

# libFuzzer: every forage library instrumented (clang, ASan + UBSan), each harness run for
# FUZZ_SECONDS; new inputs in $(FUZZ_BUILD)/fuzz-corpus/, findings in $(FUZZ_BUILD)/fuzz-artifacts/
# (docs/fuzzing.md). FUZZERS=fuzz_mime runs one.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZERS ?=
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DFORAGE_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZERS)

format:
	git ls-files '*.cpp' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD)
