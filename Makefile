# Developer commands for Commonplace. Run `make help` for the list.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
REQUIREMENTS := requirements.txt requirements-dev.txt
# The stamp name carries a hash of the requirements files, so editing either
# file (or checking out a branch that changes them) reinstalls the packages.
REQUIREMENTS_HASH := $(shell cat $(REQUIREMENTS) 2>/dev/null | sha256sum | cut -c1-16)
VENV_STAMP := $(VENV)/.installed-$(REQUIREMENTS_HASH)

# Port for `make run`.
PORT ?= 8000
# Extra arguments for pytest, for example PYTEST_ARGS='-k feed -x'.
PYTEST_ARGS ?=
# Processes that make test spreads the tests over (pytest-xdist): auto starts
# one per CPU core. PYTEST_WORKERS=0 runs everything in one process, without
# the workers' start-up time; so does -n 0 in PYTEST_ARGS, which comes later.
PYTEST_WORKERS ?= auto
# The browser tests drive Debian's Chromium, not a browser that Playwright
# downloads. Exported because e2e/conftest.py reads the same variable.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: help venv run test check-chromium check-redis lint typecheck fmt vendor clean distclean

help: ## List the targets with a short description of each
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "Variables: PORT=$(PORT) (make run), PYTEST_WORKERS=$(PYTEST_WORKERS) and PYTEST_ARGS (make test), PYTHON (interpreter for make venv)"

venv: $(VENV_STAMP) ## Create .venv and install requirements-dev.txt when missing or changed

# A venv whose interpreter is missing, no longer runs, or is older than 3.12
# is recreated with the interpreter that scripts/find_python.sh picks.
$(VENV_STAMP): $(REQUIREMENTS) $(VENV_PYTHON)
	@if ! $(VENV_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
		python=$$(scripts/find_python.sh); \
		echo "Creating $(VENV) with $$python"; \
		rm -rf $(VENV); \
		"$$python" -m venv $(VENV); \
	fi
	$(VENV_PYTHON) -m pip install -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# When the venv's interpreter is missing (or is a link to a removed
# Python), this empty rule makes the stamp out of date.
$(VENV_PYTHON): ;

# DEBUG=1 unless the caller set DEBUG, because the settings use the
# development SECRET_KEY only in debug mode, and runserver then shows
# tracebacks and serves static files.
run: export DEBUG ?= 1
# Links in e-mails and in the help JSON start with BASE_URL, so it follows
# the port the server listens on unless the caller set it.
run: export BASE_URL ?= http://127.0.0.1:$(PORT)
# run_schedule does what cron does in a deployment: it escalates unanswered
# questions every minute and runs the matching pass once a day. It runs
# beside the server and is stopped when the server stops (or Ctrl-C).
run: venv ## Migrate the SQLite database, load the demo company and serve on 127.0.0.1:PORT
	@mkdir -p var
	$(VENV_PYTHON) manage.py migrate --noinput
	$(VENV_PYTHON) manage.py load_demo --base-url $(BASE_URL)
	@$(VENV_PYTHON) manage.py run_schedule & schedule=$$!; \
	trap 'kill $$schedule 2>/dev/null || true' EXIT; \
	echo "$(VENV_PYTHON) manage.py runserver 127.0.0.1:$(PORT)"; \
	$(VENV_PYTHON) manage.py runserver 127.0.0.1:$(PORT)

# make fails whenever pytest exits non-zero, so a run that collects no tests
# (pytest exit code 5) fails too.
test: check-chromium check-redis venv ## Run the test suite with pytest on every core (PYTEST_WORKERS, PYTEST_ARGS)
	@mkdir -p var
	$(VENV_PYTHON) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

check-chromium: ## Fail unless Debian's Chromium, which the browser tests use, is installed
	@if [[ ! -x $(CHROMIUM) ]]; then \
		echo "error: $(CHROMIUM) not found. The browser tests need Debian's Chromium: run 'apt-get install chromium' (as root)." >&2; \
		exit 1; \
	fi

check-redis: ## Fail unless redis-server, which the background-work tests start, is installed
	@if ! command -v redis-server >/dev/null 2>&1; then \
		echo "error: redis-server not found. The background-work tests start a real Redis: run 'apt-get install redis-server' (as root)." >&2; \
		exit 1; \
	fi

# Both checks run even when the first fails, so one run lists every problem.
lint: venv ## Check formatting and lint rules with ruff
	@status=0; \
	echo "$(VENV)/bin/ruff format --check ."; \
	$(VENV)/bin/ruff format --check . || status=1; \
	echo "$(VENV)/bin/ruff check ."; \
	$(VENV)/bin/ruff check . || status=1; \
	exit $$status

typecheck: venv ## Type-check the project with mypy
	$(VENV)/bin/mypy .

fmt: venv ## Format the code and apply ruff's automatic fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

vendor: ## Refresh static/vendor/ from the npm registry (needs npm)
	scripts/vendor_static.sh

clean: ## Remove .venv and tool caches (keeps var/, which holds the SQLite database)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Remove everything clean removes, and var/ as well
	rm -rf var
