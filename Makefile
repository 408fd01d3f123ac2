# The two entry points of the README's quick start, over meson:
#   make demo   install what is missing, build, record the demo workload, show the top table
#   make test   install what is missing, build, run the whole suite, plain and under ASan+UBSan
#               (scripts/test.sh; ends with 'N passed, N failed')
#   make fuzz   build the libFuzzer targets (build-fuzz, clang) and run each for FUZZ_SECONDS
#               (default 60; FUZZ_TARGETS='pprof cfi' for some), one line each (tests/fuzz/)
# Everything else is plain meson: meson setup build && meson test -C build.

BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
MESON_FLAGS ?= -Dwerror=true

.PHONY: all setup demo test test-plain test-asan fuzz clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

setup:
	./scripts/setup.sh

$(BUILD)/build.ninja: | setup
	meson setup $(MESON_FLAGS) $(BUILD)

$(BUILD_ASAN)/build.ninja: | setup
	meson setup $(MESON_FLAGS) -Db_sanitize=address,undefined $(BUILD_ASAN)

$(BUILD_FUZZ)/build.ninja: | setup
	@command -v clang >/dev/null || { echo 'make fuzz: needs clang (apt-get install clang)' >&2; exit 1; }
	CC=clang meson setup -Dfuzz=true $(BUILD_FUZZ)

demo: setup all
	$(BUILD)/cmd/cprof record -o demo.pb.gz -- $(BUILD)/tests/hot 3
	$(BUILD)/cmd/cprof report demo.pb.gz

test:
	./scripts/test.sh

# After an intended change to a view: rewrite tests/data/golden/, then read its diff.
golden: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	UPDATE_GOLDEN=1 meson test -C $(BUILD) golden

test-plain: $(BUILD)/build.ninja
	meson test -C $(BUILD) --print-errorlogs

test-asan: $(BUILD_ASAN)/build.ninja
	meson test -C $(BUILD_ASAN) --print-errorlogs

fuzz: $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ)
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/fuzz.sh $(BUILD_FUZZ) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) demo.pb.gz
