# The two commands of the README's quick start, and a few helpers around meson.
#   make run    installs what is missing, builds, and runs the agent in the foreground on the
#               embedded defaults with examples/ as its manifests directory
#   make check  installs what is missing, builds, and runs every test
BUILD ?= build

.PHONY: all deps test-deps build run check bench format clean

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	$(BUILD)/agent/berth agent --manifests-dir $(CURDIR)/examples

check: test-deps
	scripts/check.sh

bench: build
	bench/run.sh $(BUILD)/agent/berth

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-check build-asan
