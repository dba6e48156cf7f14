# The two commands: `make run` and `make test`. Each creates or updates the local
# virtual environment (.venv) and installs what it needs; nothing is installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
APT    := $(shell [ "$$(id -u)" = 0 ] && echo env DEBIAN_FRONTEND=noninteractive apt-get || echo sudo env DEBIAN_FRONTEND=noninteractive apt-get)

.PHONY: run test lint lint-service bench clean-db help node-available chromium-available

help:
	@echo "make run   - start Candor on http://127.0.0.1:8000 (embedded PostgreSQL when DATABASE_URL is unset)"
	@echo "make test  - install test dependencies and run every test"
	@echo "make lint  - ruff and pyright over the tree; CI needs zero findings"
	@echo "make bench - run the benchmarks under bench/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/candor serve

# Node runs the browser token client's tests; Debian's package when the machine has none.
node-available:
	@command -v node >/dev/null 2>&1 || { $(APT) update -qq && $(APT) install -y -qq nodejs; }

# Debian's Chromium drives the browser tests (tests/browser); Playwright's own download is not used.
chromium-available:
	@command -v chromium >/dev/null 2>&1 || { $(APT) update -qq && $(APT) install -y -qq chromium; }

test: $(VENV)/.dev-installed node-available chromium-available
	$(BIN)/python -m pytest
	@if ls tests/js/*.test.mjs >/dev/null 2>&1; then node --test tests/js/; fi

# Both tools always run, so one pass shows every finding. pyright runs on node; its wheel bundles
# pyright itself, so nothing is downloaded here.
lint: $(VENV)/.dev-installed node-available
	@status=0; \
	  echo "== ruff"; $(BIN)/ruff check . || status=1; \
	  echo "== pyright"; $(BIN)/pyright || status=1; \
	  exit $$status

# The web layer at pyright's basic level: not yet clean, so not part of `make lint` (see pyproject.toml).
lint-service: $(VENV)/.dev-installed node-available
	$(BIN)/pyright service

# Each benchmark prints its ratio or budget line; all run, and any over budget fails the target.
# The soak (PostgreSQL crashed mid-run; nothing acknowledged may be lost) runs SOAK_SECONDS.
SOAK_SECONDS ?= 60
bench: $(VENV)/.dev-installed
	@failed=0; for b in bench/*.py; do echo "== $$b"; \
	  case $$b in bench/soak.py) args="--seconds $(SOAK_SECONDS)";; *) args="";; esac; \
	  $(BIN)/python $$b $$args || failed=1; done; exit $$failed

clean-db:
	rm -rf .candor/pgdata
