# Two entry points for a fresh Debian machine: `make demo` and `make test`.
SWIFT ?= $(shell command -v swift || echo /opt/swift/usr/bin/swift)

.PHONY: deps build demo test bench fuzz fuzz-build fuzz-smoke format

# The fuzz build (README, "Fuzzing"): SentryCore and Yams instrumented for libFuzzer, with AddressSanitizer;
# linked with lld, as gold fails on the sanitized objects (internal error in dwarf_reader.cc).
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_BUILD = $(SWIFT) build -c release --product SentryFuzz --scratch-path .build-fuzz \
	-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build --product sentry

demo: build
	.build/debug/sentry demo

# The store suites run on SQLite, in memory and on a real PostgreSQL: a throwaway cluster started for the run
# and removed after it (scripts/pg-test-cluster.sh); without one, the PostgreSQL cases fail.
test: deps
	python3 scripts/check_deploy.py
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift bench/ceiling
	$(SWIFT) build --build-tests
	env -u SENTRY_TEST_POSTGRES_SKIP bash scripts/pg-test-cluster.sh run $(SWIFT) test --skip-build
	.build/debug/sentry playbooks lint Playbooks
	.build/debug/sentry playbooks test Playbooks
	python3 scripts/check_manifest.py .build/debug/sentry
	.build/debug/SentryFuzz all Fuzz/Seeds
	$(MAKE) --no-print-directory fuzz-smoke

bench: deps
	bash bench/run.sh

fuzz-build: deps
	$(FUZZ_BUILD)

# Each target for FUZZ_SECONDS, resuming from the corpus of earlier runs.
fuzz: fuzz-build
	FUZZ_BIN="$$($(FUZZ_BUILD) --show-bin-path)/SentryFuzz" bash scripts/fuzz.sh $(FUZZ_SECONDS)

# A few seconds per target, so that a target which no longer builds or crashes at once fails `make test`.
fuzz-smoke: fuzz-build
	FUZZ_BIN="$$($(FUZZ_BUILD) --show-bin-path)/SentryFuzz" bash scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS)

# Formats the tree in place with .swift-format; `make test` fails on anything it would change.
format:
	$(SWIFT) format format --in-place --recursive --parallel Sources Tests Package.swift bench/ceiling
