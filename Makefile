# pinhole: set-up, build, test, demo, perf.
# `make test` and `make demo` install what they need (as root, idempotently) on a
# fresh Debian/Ubuntu machine, then build and run.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
APT_PACKAGES := dpdk dpdk-dev libdpdk-dev libclang-dev pkg-config clang libpcap-dev \
                sip-tester tshark iproute2 ethtool
DEMO_CONFIG := configs/demo.json

.PHONY: all setup deps build build-release lint test e2e demo perf perf-ndr pktgen-profile

all: build

# Install missing system packages only (dpkg -s), non-interactively.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make: missing packages:$$missing (run as root)"; exit 1; fi; \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections; \
	  apt-get update -q; \
	  apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "make: cargo not found: install Rust (https://rustup.rs)"; exit 1; }

setup: deps

build: deps
	$(CARGO) build --workspace --all-targets

build-release: deps
	$(CARGO) build --release -p pinhole-control --bin pinhole

lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The e2e tests start target/debug/pinhole: build it first, then everything.
test: deps lint
	$(CARGO) build -p pinhole-control --bin pinhole
	$(CARGO) test --workspace

e2e: deps
	$(CARGO) build -p pinhole-control --bin pinhole
	$(CARGO) test -p pinhole-e2e

# Forward the shipped demo capture between two net_pcap ports without hugepages (the
# engine exits by itself once the capture is done), then replay the same capture through
# the zone firewall with the SIP ALG (configs/demo-firewall.json).
demo: build-release
	@rm -rf target/demo && mkdir -p target/demo
	./target/release/pinhole run --config $(DEMO_CONFIG) --exit-when-idle 1 \
	  --summary-json target/demo/summary.json -- --file-prefix pinhole-demo-$$$$
	@echo "demo: output capture target/demo/out-outside.pcap, summary target/demo/summary.json"
	@echo "demo: the same capture through the zone firewall with the SIP ALG (pinhole replay):"
	./target/release/pinhole replay --config configs/demo-firewall.json --pcap configs/demo/demo.pcap \
	  --report target/demo/firewall-report.json
	@echo "demo: per-flow verdicts and pinholes in target/demo/firewall-report.json"

# Throughput of the engine against dpdk-testpmd on the same virtual devices and cores.
perf: deps
	$(CARGO) build --release -p pinhole-control --bin pinhole
	$(CARGO) build --release -p pinhole-perf
	./target/release/pinhole-perf baseline

# NDR/PDR (RFC 2544 binary search) of the engine and of dpdk-testpmd on the same core,
# driven by the project's generator over net_memif (no hugepages needed). Three
# profiles: 64-byte UDP over 1k flows, the session mix, SIP calls with RTP. Tables on
# stdout, JSON records in perf/results/. PERF_ARGS adds options (e.g. --trial-secs 5).
PERF_ARGS ?=
perf-ndr: deps
	$(CARGO) build --release -p pinhole-control --bin pinhole
	$(CARGO) build --release -p pinhole-perf
	./target/release/pinhole-perf ndr --profile udp --flows 1024 $(PERF_ARGS)
	./target/release/pinhole-perf ndr --profile sessions --sessions 100000 $(PERF_ARGS)
	./target/release/pinhole-perf ndr --profile sip --hold-ms 2000 $(PERF_ARGS)

# pcap files and Lua scripts for pktgen-dpdk (bare metal), written by the project's own
# traffic sources into target/pktgen/ (see docs/perf.md).
pktgen-profile: deps
	$(CARGO) build --release -p pinhole-perf
	./target/release/pinhole-perf pktgen-profile --out target/pktgen
