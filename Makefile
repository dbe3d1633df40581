# Festival pub ordering backend. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
# 0.0.0.0 lets phones on the pub's Wi-Fi in (make dev HOST=0.0.0.0); show_urls then prints the LAN address.
HOST ?= 127.0.0.1
export HOST PORT
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# The mysql extra (mysqlclient, compiled) only when a MySQL/MariaDB database is configured.
EXTRAS := $(if $(or $(filter mysql%,$(DATABASE_URL)),$(DB_HOST)),--extra mysql,)
RUN := $(UV) run --frozen $(EXTRAS)
PYTEST := $(RUN) pytest
# A socket's message of any size up to 16 MiB gets its `error` and stays open (daphne's own limit is 1 MiB).
DAPHNE := $(RUN) daphne --websocket-max-message-size 16777216 --websocket-max-frame-size 16777216

.PHONY: help dev serve install test test-unit test-integration test-concurrency test-fast test-api \
        test-browser test-coverage test-parallel migrate seed reset-db lint format type-check pre-commit ci bench \
        screenshots

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(UV):
	@echo "uv not found: installing it for this user"
	@python3 -m pip install --user --quiet uv 2>/dev/null \
	  || python3 -m pip install --user --quiet --break-system-packages uv 2>/dev/null \
	  || (curl -LsSf https://astral.sh/uv/install.sh | sh)

install: $(UV) ## install dependencies with uv (adds the mysql extra when DATABASE_URL is MySQL)
	@if [ -n "$(EXTRAS)" ] && ! $(UV) run --no-sync python -c "import MySQLdb" >/dev/null 2>&1 \
	  && ! { command -v pkg-config >/dev/null && { pkg-config --exists libmariadb || pkg-config --exists mysqlclient; }; }; then \
	  echo "MySQL needs build packages first: sudo apt-get install pkg-config libmariadb-dev (Debian/Ubuntu)"; exit 1; fi
	$(UV) sync --frozen $(EXTRAS)

dev: install ## fresh machine -> running app: migrate, seed, demo staff user, serve on $(HOST):$(PORT)
	DEBUG=$${DEBUG:-1} $(RUN) python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(RUN) python manage.py seed_data
	DEBUG=$${DEBUG:-1} $(RUN) python manage.py seed_tables
	DEBUG=$${DEBUG:-1} $(RUN) python manage.py ensure_staff
	@DEBUG=$${DEBUG:-1} $(RUN) python manage.py show_urls --host $(HOST) --port $(PORT)
	DEBUG=$${DEBUG:-1} $(DAPHNE) -b $(HOST) -p $(PORT) config.asgi:application

# Works after `make dev`: debug on unless a SECRET_KEY is given (production sets both).
serve: ## serve only (no migrate/seed) on $(HOST):$(PORT)
	@DEBUG=$${DEBUG:-$$([ -n "$$SECRET_KEY" ] && echo 0 || echo 1)} $(RUN) python manage.py show_urls --no-qr
	DEBUG=$${DEBUG:-$$([ -n "$$SECRET_KEY" ] && echo 0 || echo 1)} $(DAPHNE) -b $(HOST) -p $(PORT) config.asgi:application

test: install ## the whole suite (honours DATABASE_URL / REDIS_URL; CI runs it on MariaDB + Redis)
	$(PYTEST) -q

test-unit: install ## services, selectors and serializers only (no servers, no browser)
	$(PYTEST) -q -m "not integration and not concurrency and not browser"

test-integration: install ## tests that start real servers (daphne, fake Discord / PayAction)
	$(PYTEST) -q -m integration

test-concurrency: install ## races with real threads and processes (meaningful on MariaDB)
	$(PYTEST) -q -m concurrency

test-fast: install ## everything but slow tests and the browser
	$(PYTEST) -q -m "not slow and not browser"

test-api: install ## HTTP API tests
	$(PYTEST) -q tests/api

test-browser: install ## Playwright + Debian chromium end-to-end tests
	$(PYTEST) -q -m browser

test-coverage: install ## the suite with a coverage report
	$(PYTEST) -q --cov=ordering --cov=kitchen --cov=payments --cov=realtime --cov=background --cov=core --cov=config --cov-report=term-missing

test-parallel: install ## the suite on both cores (pytest-xdist)
	$(PYTEST) -q -n 2 -m "not browser and not concurrency"

migrate: install ## apply migrations
	$(RUN) python manage.py migrate --noinput

seed: install ## load menu and tables (idempotent)
	$(RUN) python manage.py seed_data
	$(RUN) python manage.py seed_tables

reset-db: install ## embedded default only: delete db.sqlite3 and rebuild it
	@if [ -n "$(DATABASE_URL)$(DB_HOST)" ]; then echo "refusing: reset-db only resets the embedded SQLite"; exit 1; fi
	rm -f db.sqlite3
	$(MAKE) migrate seed

lint: install ## ruff
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install ## ruff format and autofix
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

type-check: install ## mypy
	$(RUN) mypy ordering kitchen payments realtime background core config

pre-commit: lint test-fast ## what to run before a commit

ci: ## what CI runs (.ci/run): services, full suite on MariaDB + Redis, fast suite embedded
	bash .ci/run

bench: install ## benchmarks (bench/README.md), then the full festival-peak load; numbers go to docs/benchmarks.md
	$(RUN) python bench/run_all.py
	$(RUN) python bench/peak.py

screenshots: install ## screenshots of the pages into docs/screenshots/ (headless Debian chromium)
	$(RUN) python bench/screenshots.py

.PHONY: image-test
image-test: ## build the production image (Dockerfile) with podman and run it against local MariaDB + Redis (root)
	bash docker/image-test.sh
