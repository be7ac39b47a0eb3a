# Everything a developer runs. `make run` and `make test` work on a fresh
# machine with Go; Postgres is used by the tests when reachable.
SHELL := bash
.DEFAULT_GOAL := help

GO            ?= go
BIN           := bin/app
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X github.com/acme/monolith/platform/buildinfo.Version=$(VERSION)
GOLANGCI_LINT := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
TEST_FLAGS    ?= -race -count=1 -timeout 20m

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build the binary into bin/app
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/app

.PHONY: run
run: build ## Build and serve on the SQLite default (prints the /docs URL)
	./$(BIN) serve

.PHONY: test
test: ## Run every test (SQLite always; Postgres when reachable, required with CI=true)
	$(GO) test $(TEST_FLAGS) ./...

.PHONY: lint
lint: ## gofmt, go vet and golangci-lint (pinned)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(GOLANGCI_LINT) run ./...

.PHONY: generate
generate: ## Regenerate ent code from ent/schema
	$(GO) generate ./ent

.PHONY: check-generated
check-generated: generate ## Fail if regenerating ent changes anything
	@git diff --exit-code -- ent || (echo "ent/ is out of date: run make generate and commit"; exit 1)
	@test -z "$$(git status --porcelain -- ent)" || (git status --porcelain -- ent; echo "ent/ has untracked generated files"; exit 1)

.PHONY: migration
migration: ## Write the next migration for both dialects: make migration name=add_things
	@test -n "$(name)" || (echo "usage: make migration name=<snake_case_name>"; exit 2)
	$(GO) run ./cmd/app migrate diff $(name)

.PHONY: migrate
migrate: ## Apply pending migrations to DATABASE_URL
	$(GO) run ./cmd/app migrate up

.PHONY: graph
graph: ## Print the fx dependency graph (DOT)
	@$(GO) run ./cmd/app graph --level module --format dot

.PHONY: graph-assets
graph-assets: ## Refresh the graph page's bundled libraries from npm (exact versions of platform/fxgraph/assets/package-lock.json)
	platform/fxgraph/assets/vendor.sh

.PHONY: clean
clean: ## Remove build output and the local database and key
	rm -rf bin var

# --- production (issue 5) -----------------------------------------------------
IMAGE   ?= monolith:$(VERSION)
OVERLAY ?= dev

.PHONY: image
image: ## Build the container image (needs Docker): make image IMAGE=registry/monolith:v1
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

.PHONY: deploy-render
deploy-render: ## Print the Kubernetes manifests of an overlay: make deploy-render OVERLAY=prod
	@$(GO) run ./deploy/cmd/render deploy/overlays/$(OVERLAY)

.PHONY: lint-migrations
lint-migrations: ## Fail on destructive statements in migrations without an acknowledgement
	$(GO) run ./cmd/app migrate lint

.PHONY: module
module: ## Generate a feature module: make module name=notes (see README "Add a module")
	@test -n "$(name)" || (echo "usage: make module name=<plural_noun>"; exit 2)
	$(GO) run ./cmd/app new module $(name)

.PHONY: onboarding
onboarding: ## Redraw the module picture in docs/onboarding.md and docs/onboarding-modules.svg
	$(GO) test ./cmd/app -run TestOnboardingPictureIsCurrent -count=1 -update

# --- performance and reliability (issue 6) ------------------------------------
# Each target runs a fixed number of executions (about ten seconds each on
# a quiet 2-core machine). A count, not a duration: with a duration, Go 1.26's
# fuzz coordinator can report a spurious "context deadline exceeded" failure
# at the deadline (golang/go#75804, fixed in Go 1.27). FUZZTIME=30s (or
# 5000x) overrides every target's budget.
FUZZTIME ?=
# package:target:executions; go test -fuzz takes one target at a time.
FUZZ_TARGETS := \
	./platform/authn:FuzzBearerToken:300000x \
	./modules/auth/authsvc:FuzzVerifyAccessToken:250000x \
	./modules/auth/authapi:FuzzDecodeForm:30000x \
	./modules/users/userapi:FuzzUserJSON:10000x \
	./modules/users/userapi:FuzzPagination:8000x

.PHONY: fuzz
fuzz: ## Fuzz every target for its execution budget (or FUZZTIME=30s each); seeds in testdata/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; budget=$${rest#*:}; \
		$(if $(FUZZTIME),budget=$(FUZZTIME);) echo "== $$fn ($$pkg, $$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $$budget $$pkg; \
	done

BASE       ?=
SOAK       ?= 5m
BENCH_TIME ?= 10s
BENCH_ARGS ?=
.PHONY: bench
bench: ## Load-test the real binary vs baselines on Postgres and SQLite, soak included (BASE=<rev> SOAK=5m BENCH_TIME=10s)
	$(GO) run ./bench/cmd/bench -base "$(BASE)" -soak $(SOAK) -duration $(BENCH_TIME) $(BENCH_ARGS)
