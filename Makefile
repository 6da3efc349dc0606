# Thin wrapper over CMake. `make demo` and `make check` work on a fresh Debian 12 machine.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo check test bench sanitize format clean

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

format:
	git ls-files '*.cpp' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan
