# Parley: the two commands of the README.
#   make run    install what is missing, then run Parley (private PostgreSQL in ./data)
#   make test   install what is missing, run make lint, then every test (unit, HTTP, browser)
#   make lint   gofmt, go vet, staticcheck, and generated templ code in step with the .templ files
#   make scale-test  PostgreSQL, PgBouncer, three instances and nginx on this machine, parley-bench
#               through nginx, then one instance killed with -9 (cmd/parley-scale; docs/deploy.md)
# Each installs the system packages a fresh Debian machine lacks, or stops
# with the exact command to run where it cannot (not root, not Debian).

GO ?= go
SHELL := /bin/bash

.PHONY: run test lint build generate deps-run deps-test deps-scale scale-test check-go

# run builds bin/parley, then the recipe's shell execs it: parley itself is
# make's child, so Ctrl-C (SIGINT to the terminal's process group) and SIGTERM
# to make (which GNU make passes on to its children before it waits for them)
# both reach parley, which stops its private PostgreSQL before it exits. With
# `go run`, SIGTERM ended only the go command and left the server running.
run: deps-run
	@echo "==> Building bin/parley (the first build compiles every dependency: a minute or two; each package is listed as it compiles)..."
	@$(GO) build -v -o bin/parley ./cmd/parley
	@echo "==> Starting Parley (stop with Ctrl-C)..."
	@exec ./bin/parley

test: deps-test lint
	@status=0; $(GO) test -count=1 -timeout 20m ./... || status=$$?; \
	$(GO) run ./cmd/parley-testdb stop >/dev/null 2>&1 || true; \
	exit $$status

# lint fails on unformatted files, vet or staticcheck findings (staticcheck.conf),
# and *_templ.go that `templ generate` would change. The templ check generates
# into a copy of the tree, so it works outside a git checkout and never
# touches the working files.
lint: check-go
	@echo "==> gofmt"
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	@echo "==> go vet"
	@$(GO) vet ./...
	@echo "==> staticcheck"
	@$(GO) tool staticcheck ./...
	@echo "==> templ generate (generated code up to date)"
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	tar --exclude=./.git --exclude=./data --exclude=./bin -cf - . | tar -C "$$tmp" -xf - || exit 1; \
	( cd "$$tmp" && $(GO) tool templ generate -path . >"$$tmp/.templ.log" 2>&1 ) || { cat "$$tmp/.templ.log"; exit 1; }; \
	if diff -r -q -x .git -x data -x bin . "$$tmp" | grep '_templ\.go'; then \
	  echo "generated templ code is out of date: run make generate and commit"; exit 1; fi

build:
	$(GO) build -o bin/parley ./cmd/parley

# scale-test: the scale-out check with its default figures (200 visitors, 6
# agents, 100 msg/s, 10 s a run); pass others with SCALE_FLAGS="-rate 200".
scale-test: deps-scale
	@$(GO) build -o bin/parley-bench ./cmd/parley-bench
	@$(GO) run ./cmd/parley-scale -bench bin/parley-bench $(SCALE_FLAGS)

# Regenerate templ code after editing a .templ file (the CLI version is pinned in go.mod).
generate:
	$(GO) tool templ generate -path .

check-go:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is needed: see https://go.dev/doc/install (or apt-get install golang-go where it is 1.26+)"; exit 1; }
	@echo "==> Downloading Go modules (only those missing from the module cache; the first time, about a minute)..."
	@$(GO) mod download

deps-run: check-go
	@$(call need_pkg,postgres,postgresql,have_postgres)

deps-test: check-go
	@$(call need_pkg,postgres,postgresql,have_postgres)
	@$(call need_pkg,chromium,chromium,have_chromium)
	@$(call need_pkg,clamd (the file tests' virus scanner),clamav-daemon,have_clamd)
	@$(call need_pkg,pgbouncer (the scale-out test),pgbouncer,have_pgbouncer)
	@$(call need_pkg,nginx (the scale-out test),nginx,have_nginx)
	@if ! ( $(have_versitygw) ); then \
	  echo "Installing versitygw (the file tests' S3-compatible server; about 5 minutes to build the first time)..."; \
	  $(GO) install $(VERSITYGW) || exit 1; \
	fi

deps-scale: check-go
	@$(call need_pkg,postgres,postgresql,have_postgres)
	@$(call need_pkg,pgbouncer (the scale-out test),pgbouncer,have_pgbouncer)
	@$(call need_pkg,nginx (the scale-out test),nginx,have_nginx)

have_postgres = command -v postgres >/dev/null || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1
have_chromium = test -x /usr/bin/chromium || command -v chromium >/dev/null
have_clamd = test -x /usr/sbin/clamd || command -v clamd >/dev/null
have_pgbouncer = test -x /usr/sbin/pgbouncer || command -v pgbouncer >/dev/null
have_nginx = test -x /usr/sbin/nginx || command -v nginx >/dev/null
# versitygw: the S3-compatible server the file tests start (internal/filetest
# finds it on PATH or in Go's bin directory).
VERSITYGW = github.com/versity/versitygw/cmd/versitygw@v1.8.0
have_versitygw = command -v versitygw >/dev/null || test -x "$$($(GO) env GOPATH)/bin/versitygw" || test -x "$$($(GO) env GOBIN)/versitygw"

# need_pkg(what, debian-package, check): install the Debian package when the
# check fails; as a non-root user or off Debian, print the command instead.
define need_pkg
if ! ( $($(3)) ); then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
    echo "Installing $(2) (needed for $(1))..."; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $(2) >/dev/null || exit 1; \
  elif command -v apt-get >/dev/null; then \
    echo "$(1) is missing. Install it with:  sudo apt-get install -y $(2)"; exit 1; \
  else \
    echo "$(1) is missing. Install PostgreSQL server binaries and Chromium with your package manager (e.g. 'brew install postgresql chromium' on macOS)."; exit 1; \
  fi; \
fi
endef
