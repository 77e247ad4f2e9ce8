# OnePanel: one entry point for running, testing and measuring.
#   make run    virtualenv, install, migrate, demo data, serve http://127.0.0.1:8000
#   make test   lint, format check, import floors, type check (mypy, beside the tests) and
#               the whole test suite on PostgreSQL and Redis

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The first Python >= 3.12 on PATH (pyenv's shims honour .python-version).
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	then echo $$p; break; fi; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install worker beat bench soak attack clean

$(BIN)/activate:
	@if [ -z "$(PYTHON)" ]; then echo "OnePanel needs Python 3.12 or newer (e.g. 'pyenv install 3.13')." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_catalogue
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: starting a Celery worker with beat in the background."; \
		$(BIN)/celery -A config worker --beat --loglevel=INFO --concurrency=2 & \
		worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT); \
	else \
		$(BIN)/python manage.py runserver $(HOST):$(PORT); \
	fi

# The tests keep Python's bytecode (__pycache__, git-ignored) even where the environment
# says PYTHONDONTWRITEBYTECODE, as container images often do: without it every test
# process compiles the project again and pytest rewrites the asserts of all ~300 test
# modules again (collecting the suite: 4.3 s of CPU per process without, 2.3 s with).
test attack: export PYTHONDONTWRITEBYTECODE :=
# mypy (about a minute of CPU on a fresh clone) runs beside the tests, at a lower priority:
# the tests leave a core idle while they wait on servers and browsers. Its report follows
# theirs, and either failing fails the target.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/djlint . --lint
	@types=$$(mktemp); nice -n 10 $(BIN)/mypy >"$$types" 2>&1 & mypy=$$!; \
	$(BIN)/pytest; tests=$$?; \
	wait $$mypy; typed=$$?; echo "mypy:"; cat "$$types"; rm -f "$$types"; \
	exit $$(( tests || typed ))

# The attack run (also part of `make test`): gunicorn with config/gunicorn.py under
# config.settings.production on loopback, replaying the cases of issue 8 (docs/security.md).
attack: install
	$(BIN)/pytest -m attack

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/djlint . --lint

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

# Benchmarks run on PostgreSQL and Redis (the local servers unless DATABASE_URL/REDIS_URL
# say otherwise), in a database of their own; `python -m benchmarks` prints one table and
# writes it to docs/benchmarks.md (BENCH_ARGS, e.g. --repeat 3 or --duration 5). It needs
# wrk (apt-get install -y wrk).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/onepanel_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/10
bench: install
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk" >&2; exit 1; }
	@export DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(BENCH_REDIS_URL)} \
		DJANGO_SETTINGS_MODULE=config.settings.bench; \
	$(BIN)/python manage.py ensure_database && \
	$(BIN)/python manage.py migrate --noinput -v0 && \
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Load and faults on loopback (not part of make test): 100 customers browse and pay for
# 60 s while Redis stops for 20 s, PostgreSQL restarts and a worker is SIGKILLed; every
# server is a throwaway one of its own (benchmarks/soak.py). Exits non-zero on a failure.
soak: install
	$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
