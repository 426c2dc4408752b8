# dynonode: `make run` starts a node, `make test` installs what the tests
# need and runs them all. See README.md.

GO       ?= go
FPCTL    := $(GO) tool failpoint-ctl
# Packages with failpoint markers; `make test` rewrites them and always
# restores them, even when tests fail or are interrupted.
FP_PKGS  := $(shell grep -rl --include="*.go" "failpoint.Inject" netio transport | xargs -n1 dirname | sort -u)
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/dynonode
CONF     ?= conf/dynonode.yml
FUZZTIME ?= 10s
SEEDS    ?= 200
TEST_TIMEOUT ?= 14m

.PHONY: all build run deps fmt-check vet lint tidy-check test test-race bench fuzz sim jepsen jepsen-clean jepsen-smoke clean docs

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dynonode

# Builds and starts one node on the embedded store with conf/dynonode.yml.
run: build
	@echo "dynonode: starting with $(CONF) (Ctrl-C to stop)"
	@echo "dynonode: connect with  redis-cli -p 8102   (admin and stats: curl http://127.0.0.1:22222/info)"
	./$(BIN) -c $(CONF)

deps:
	@bash scripts/deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# staticcheck (every check, unused code included; staticcheck.conf) and
# errcheck (exclusions in .errcheck-excludes), both pinned in go.mod as
# tools. A finding is fixed or justified inline: //lint:ignore CHECK reason.
lint:
	$(GO) tool staticcheck ./...
	$(GO) tool errcheck -exclude .errcheck-excludes ./...

# Fails when `go mod tidy` would change go.mod or go.sum (prints the diff).
tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

# docs/commands.md is generated from the router's and the engine's command
# tables; make test fails when it is out of date (TestCommandsDoc).
docs:
	$(GO) test ./internal/cmddoc -run TestCommandsDoc -update -count=1

# The docs check (every path, test name and default quoted in README.md,
# docs/*.md and doc.go files) is a Go test: internal/doccheck.
test: deps fmt-check vet lint tidy-check
	@trap '$(FPCTL) disable $(FP_PKGS) >/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(FPCTL) enable $(FP_PKGS) && \
	$(GO) test -timeout $(TEST_TIMEOUT) ./... && \
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./transport/... ./netio/...
	@$(MAKE) --no-print-directory jepsen-smoke

# A short Jepsen run (about 2 minutes) when Docker and docker-compose work.
jepsen-smoke:
	@if docker info >/dev/null 2>&1 && command -v docker-compose >/dev/null; then \
		$(MAKE) --no-print-directory jepsen TIME=75 JEPSEN_FLAGS="-hold 6s -gap 4s"; \
	else echo "jepsen smoke run skipped: docker or docker-compose not available"; fi

# Go micro-benchmarks, then redis-benchmark against redis direct, twemproxy,
# dynonode (redis and embedded) and a 3-rack cluster, interleaved rounds;
# table in results/bench.md, chart in results/bench.png. BENCH_N and
# BENCH_ROUNDS make it shorter or longer (scripts/bench.sh).
bench: build
	@bash scripts/deps.sh nutcracker:nutcracker
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bash scripts/bench.sh

fuzz:
	@FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

# A swarm campaign of the simulator: SEEDS seeds from SEED_BASE (random
# when unset), run in parallel on every core; failures are listed by seed
# with their replay command.
sim:
	@$(GO) test ./sim -run 'TestSwarm$$' -count=1 -v -timeout 0 -parallel $$(nproc) \
		-seed=$${SEED_BASE:-$$(shuf -i 1-1000000000 -n 1)} -sim.seeds=$(SEEDS) -sim.summary=$(CURDIR)/sim-campaign.md > sim-campaign.log 2>&1; \
	status=$$?; \
	echo "seeds passed: $$(grep -c -- '--- PASS: TestSwarm/seed=' sim-campaign.log)"; \
	echo "seeds failed: $$(grep -c -- '--- FAIL: TestSwarm/seed=' sim-campaign.log)"; \
	grep -E -- '--- FAIL: TestSwarm/seed=|replay: ' sim-campaign.log || true; \
	echo "summary (failures by checker with replay commands, virtual time, faults by kind, coverage marks): sim-campaign.md"; \
	echo "full log: sim-campaign.log"; exit $$status

# Jepsen-style run against a docker-compose cluster (see jepsen/README.md):
# static binaries, an image FROM scratch, TIME seconds of workload under a
# nemesis, checkers, report under jepsen/store/<run>/. Exits non-zero on a
# violation; whatever it made is removed even on failure or Ctrl-C.
TIME     ?= 120
TOPOLOGY ?= 3racks
jepsen: deps
	@mkdir -p bin/jepsen
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/jepsen/dynonode ./cmd/dynonode
	CGO_ENABLED=0 $(GO) build -o bin/jepsen/nodeinit ./jepsen/cmd/nodeinit
	$(GO) build -o bin/jepsen/jepsen ./jepsen/cmd/jepsen
	@trap '$(MAKE) --no-print-directory jepsen-clean' EXIT; trap 'exit 130' INT TERM; \
	./bin/jepsen/jepsen -time $(TIME) -topology $(TOPOLOGY) -bin bin/jepsen $(if $(SEED),-seed $(SEED)) $(JEPSEN_FLAGS)

# Removes containers, the network and images of a Jepsen run (by compose
# project and image label), in case a run was killed before its teardown.
jepsen-clean:
	@docker ps -aq --filter label=com.docker.compose.project=dynojepsen | xargs -r docker rm -f >/dev/null
	@docker network ls -q --filter label=com.docker.compose.project=dynojepsen | xargs -r docker network rm >/dev/null
	@docker images -q --filter label=dynonode.jepsen=dynojepsen | xargs -r docker rmi -f >/dev/null

clean:
	rm -rf bin
