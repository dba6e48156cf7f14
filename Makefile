# The two commands: `make run` and `make test`. Each creates or updates the local
# virtual environment (.venv) and installs what it needs; nothing is installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
APT    := $(shell [ "$$(id -u)" = 0 ] && echo env DEBIAN_FRONTEND=noninteractive apt-get || echo sudo env DEBIAN_FRONTEND=noninteractive apt-get)

.PHONY: run test test-integrations lint bench clean-db help node-available chromium-available i18n-extract

help:
	@echo "make run   - start Candor on http://127.0.0.1:8000 (embedded PostgreSQL when DATABASE_URL is unset)"
	@echo "make test  - install test dependencies and run every test"
	@echo "make test-integrations - the service-desk connector against a real Request Tracker (installs RT)"
	@echo "make lint  - ruff and pyright over the tree; CI needs zero findings"
	@echo "make bench - run the benchmarks under bench/"
	@echo "make i18n-extract - collect the UI's strings into service/locale/*/LC_MESSAGES/messages.po"

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

# The tests spread over TEST_WORKERS processes (pytest-xdist), each with its own embedded
# PostgreSQL and Chromium; more workers than cores pay off because most tests wait on I/O.
TEST_WORKERS ?= 4
test: $(VENV)/.dev-installed node-available chromium-available
	$(BIN)/python -m pytest -n $(TEST_WORKERS)
	@if ls tests/js/*.test.mjs >/dev/null 2>&1; then node --test tests/js/; fi

# Both tools always run, so one pass shows every finding. pyright runs on node; its wheel bundles
# pyright itself, so nothing is downloaded here.
lint: $(VENV)/.dev-installed node-available
	@status=0; \
	  echo "== ruff"; $(BIN)/ruff check . || status=1; \
	  echo "== pyright"; $(BIN)/pyright || status=1; \
	  exit $$status

# Each benchmark prints its ratio or budget line; all run, and any over budget fails the target.
# The soak (PostgreSQL crashed mid-run; nothing acknowledged may be lost) runs SOAK_SECONDS.
SOAK_SECONDS ?= 60
bench: $(VENV)/.dev-installed
	@failed=0; for b in bench/*.py; do echo "== $$b"; \
	  case $$b in bench/soak.py) args="--seconds $(SOAK_SECONDS)";; *) args="";; esac; \
	  $(BIN)/python $$b $$args || failed=1; done; exit $$failed

# Collect every translatable string (templates, page modules) and merge it into each catalog; new strings
# arrive untranslated (in German fuzzy when similar to an old one), and tests/integration/test_i18n.py fails
# until German has them all. English is the source language: its msgids are the text, its msgstrs stay empty.
# The .po files are read as they are at start-up: nothing is compiled.
LOCALES := service/locale
i18n-extract: $(VENV)/.dev-installed
	$(BIN)/pybabel -q extract --no-wrap --sort-by-file --project=Candor -F $(LOCALES)/babel.cfg -k t \
	  -o $(VENV)/messages.pot .
	@for lang in en de; do \
	  if [ -f $(LOCALES)/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel -q update --no-wrap --ignore-obsolete $$([ $$lang = en ] && echo --no-fuzzy-matching) \
	      -i $(VENV)/messages.pot -d $(LOCALES) -l $$lang; \
	  else $(BIN)/pybabel -q init --no-wrap -i $(VENV)/messages.pot -d $(LOCALES) -l $$lang; fi; \
	done

# Opt-in, never part of `make test` or CI: the service-desk connector against a real Request Tracker 5
# from Debian (request-tracker5, SQLite, rt-server on 127.0.0.1), installed and started by the script.
test-integrations: $(VENV)/.dev-installed
	tests/integrations/rt_setup.sh $(BIN)/python -m pytest -m integrations tests/integration/test_servicedesk_rt.py

clean-db:
	rm -rf .candor/pgdata
