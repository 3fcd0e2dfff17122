# Seam: `make run` to start everything, `make test` to run the suite. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEAM_PORT ?= 8000

.PHONY: run test lint check venv bench chaos clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# Development defaults; production sets DEBUG=0 and a real SECRET_KEY (see .env.example).
run: export DEBUG ?= 1
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --base-url http://127.0.0.1:$(SEAM_PORT)
	SEAM_PORT=$(SEAM_PORT) $(BIN)/honcho --procfile Procfile.dev start $(if $(CUSTOMERIO_SITE_ID),web worker maintenance beat,)

test: export DEBUG ?= 1
# Tests keep their SQLite file and filesystem broker apart from a running `make run`.
test: export SEAM_VAR_DIR ?= $(CURDIR)/var/test
test: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks (bench/run.py): P1-P7 on Postgres + Redis (DATABASE_URL / BENCH_REDIS_URL, local defaults), each a
# ratio against a baseline measured in the same run; the table goes to bench/RESULTS.md. BENCH_ARGS picks suites.
bench: $(STAMP)
	command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The fault drill (chaos/drill.py): 50,000 events through its own Postgres, Redis, gunicorn, Celery and the
# emulator on spare loopback ports while they fail; exits non-zero on any lost or duplicated event.
chaos: $(STAMP)
	$(BIN)/python -m chaos.drill $(CHAOS_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: lint test

clean:
	rm -rf $(VENV) var
