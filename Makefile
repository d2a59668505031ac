# Lockstep — the two commands that matter are `make test` and `make demo` (see README.md).
# Both start what they need: PostgreSQL (the machine's, or a private one) and a pinned private NATS.

SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help test demo bench fuzz build services-up services-down clean-run

help:
	@echo "make test           fmt, clippy -D warnings, every test (starts PostgreSQL and NATS as needed)"
	@echo "make demo           one story on one running system: lockstep up + the ITSM emulator, via the CLI"
	@echo "make bench          run the benchmarks and print figures beside their baselines"
	@echo "make fuzz           long fuzzing run of the webhook verifiers and parsers (FUZZ_CASES, default 200000)"
	@echo "make services-up    start/find PostgreSQL and NATS for local work; URLs land in .run/env"
	@echo "make services-down  stop the private instances"

test:
	scripts/with-services.sh scripts/test.sh

demo:
	scripts/with-services.sh scripts/demo.sh

bench:
	scripts/with-services.sh scripts/bench.sh

FUZZ_CASES ?= 200000

# The same property-based fuzz tests `make test` runs briefly (256 cases each), run long: the webhook
# verifiers (ingest-webhook) and the event decoder with the vendor payload parsers (sync-applier).
fuzz:
	LOCKSTEP_FUZZ_CASES=$(FUZZ_CASES) scripts/with-services.sh bash -c '\
	  cargo test --release -p lockstep-ingest-webhook --test ingest fuzz && \
	  cargo test --release -p lockstep-sync-applier --test applier fuzz'

build:
	cargo build --workspace --all-targets

services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

clean-run: services-down
	rm -rf .run
