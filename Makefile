# Two entry points for a fresh Debian machine: `make demo` and `make test`.
SWIFT ?= $(shell command -v swift || echo /opt/swift/usr/bin/swift)

.PHONY: deps build demo test bench

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build --product sentry

demo: build
	.build/debug/sentry demo

test: deps
	python3 scripts/check_deploy.py
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	.build/debug/sentry playbooks lint Playbooks
	.build/debug/sentry playbooks test Playbooks
	python3 scripts/check_manifest.py .build/debug/sentry

bench: deps
	bash bench/run.sh
