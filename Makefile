# Aware: `make demo` to try it, `make test` to prove it. Every target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
CSS := build/static/css/aware.css

.PHONY: install demo test lint audit bench bench-peer lock clean

install: $(INSTALLED) $(NODE_INSTALLED) $(CSS)

# Every package is pinned with its hashes: pip refuses one whose file differs from the lock's.
# Aware itself is not installed (it runs from this folder), so nothing unhashed goes in.
$(INSTALLED): requirements-dev.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CSS): $(NODE_INSTALLED) static_src/aware.scss
	npm run --silent build:css
	mkdir -p build/collected-static

# Serves http://127.0.0.1:8000 with a Celery worker (and beat) running beside it.
# Without REDIS_URL the worker reads the embedded filesystem broker under var/celery/.
demo: install
	mkdir -p var/celery/queue var/celery/processed var/celery/control
	$(MANAGE) migrate --no-input
	$(MANAGE) load_initial_data
	@echo "Aware is starting on http://127.0.0.1:8000 (Ctrl+C stops the web server and the worker)."
	@trap 'kill 0' EXIT; \
	$(BIN)/celery -A config.celery_app worker --beat --pool=solo --loglevel=warning & \
	$(MANAGE) runserver 127.0.0.1:8000

# Two pytest processes (pytest-xdist), each with its own test database, Redis databases and media
# folder (config/settings/test.py). `--dist load` hands out tests in pytest-django's order, so in
# each process, as in one, the tests that flush the database (live server, real workers) come
# after those that need the rows migrations made. TEST_PROCESSES=0 runs in one.
TEST_PROCESSES ?= 2
test: install lint
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist load

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# devtools' benchmark command, in a throwaway database beside the one DATABASE_URL names, which
# must be PostgreSQL: without it (SQLite) the command says so and exits non-zero.
BENCH_LEARNERS ?= 20000
bench: install
	$(MANAGE) benchmark --learners $(BENCH_LEARNERS)

# Aware's lesson, module and My training pages beside wagtail-lms 0.11's lesson page (bench/peer/,
# in its own venv) and beside two bare views, requests per second from wrk in alternating rounds,
# both under gunicorn (2 sync workers, production settings), each in a throwaway PostgreSQL
# database named after DATABASE_URL's (devtools/peer_bench.py). wrk is a Debian package.
PEER_VENV := bench/peer/.venv
BENCH_ROUNDS ?= 5
BENCH_SECONDS ?= 10
$(PEER_VENV)/.installed: bench/peer/requirements.txt
	test -d $(PEER_VENV) || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r $<
	touch $@

bench-peer: install $(PEER_VENV)/.installed
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(MANAGE) bench_peer --rounds $(BENCH_ROUNDS) --seconds $(BENCH_SECONDS)

# Checks both locks and package-lock.json against known vulnerabilities (devtools/audit_locks.py);
# fails on a known vulnerability, and also when the vulnerability database cannot be reached.
audit: install
	$(BIN)/python -m devtools.audit_locks

# Regenerate the lock files after changing pyproject.toml (uv is in the dev lock), with hashes.
lock: $(INSTALLED)
	$(BIN)/uv pip compile pyproject.toml -o requirements.lock --python-version 3.11 -q --generate-hashes
	$(BIN)/uv pip compile pyproject.toml --extra dev -c requirements.lock -o requirements-dev.lock --python-version 3.11 -q --generate-hashes

clean:
	rm -rf $(VENV) node_modules build var
