# Diaspora Grants — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test services lint format bench bench-load migration clean \
	help translations-extract translations-update translations-compile system-packages \
	browser-packages load-packages

help:
	@echo "make run      install, migrate, load the demo programme, serve http://$(HOST):$(PORT)"
	@echo "make test     install test dependencies, start services, run the whole suite"
	@echo "make lint     ruff check and format check"
	@echo "make bench    benchmarks (printed as tables)"
	@echo "make bench-load  load test of the served app on 100,000 applications (wrk)"
	@echo "make migration MESSAGE='…'  autogenerate an Alembic revision"
	@echo "make translations-extract / -update / -compile   the fr, es, ar catalogs"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Installs exactly the locked versions; the stamp reinstalls when a lock file changes.
$(VENV)/.installed-run: requirements.lock pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml $(VENV)/.installed-run
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.lock
	touch $@

install: $(VENV)/.installed-run translations-compile system-packages
install-test: $(VENV)/.installed-test translations-compile system-packages browser-packages \
	load-packages

# Debian packages the product needs: the DejaVu fonts of the award letters (Latin and
# Arabic). Installed with apt-get when missing and allowed; otherwise a clear message.
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
system-packages:
	@if [ ! -f $(FONT) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing fonts-dejavu-core (award letters)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-dejavu-core >/dev/null \
	      || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-dejavu-core >/dev/null); \
	  else echo "Award letters need the DejaVu fonts: apt-get install fonts-dejavu-core"; fi; \
	fi

# The browser tests drive Debian's Chromium (never a downloaded browser) and load axe-core
# from npm. Chromium is installed with apt-get when missing and allowed; otherwise the
# browser suite says why it skips (CI's REQUIRE_BROWSER=1 turns that into a failure).
CHROMIUM := /usr/bin/chromium
AXE := tests/browser/node_modules/axe-core/axe.min.js
browser-packages: $(AXE)
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium (browser tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	      || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null); \
	  else echo "Browser tests need Debian's chromium: apt-get install chromium"; fi; \
	fi

# The load benchmark drives the served app with Debian's wrk (installed like chromium).
load-packages:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's wrk (load benchmark)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null \
	      || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null); \
	  else echo "The load benchmark needs Debian's wrk: apt-get install wrk"; fi; \
	fi

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "Accessibility tests need npm (Node.js) to install axe-core"; fi

# Translations: extract the strings, merge them into each catalog, compile the catalogs
# (compiled files are not committed; every install compiles them).
CATALOGS := grants/translations
PYBABEL := $(VENV)/bin/pybabel
translations-extract: $(VENV)/.installed-run
	$(PYBABEL) extract -F babel.cfg -k N_ -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output \
	  --project "Diaspora Grants" --ignore-dirs=".venv tests bench migrations build" \
	  -o $(CATALOGS)/messages.pot .

translations-update: translations-extract
	$(PYBABEL) update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching --ignore-obsolete

translations-compile: $(VENV)/.installed-run
	$(PYBABEL) compile -d $(CATALOGS) --statistics 2>&1 | grep -v "^compiling" || true

run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	HOST=$(HOST) PORT=$(PORT) $(FLASK) serve

# PostgreSQL is started when it is installed but down; Redis likewise, installed with
# apt-get when missing and allowed (the shared rate-limit tests need it; CI's
# REQUIRE_REDIS=1 turns their skip into a failure).
services:
	@if ! command -v redis-server >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing redis-server (shared rate limits)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null \
	    || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null) || true; \
	fi
	@if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then \
	  echo "Starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
	  for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi
	@if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
	  echo "Starting Redis"; mkdir -p /var/lib/redis /var/log/redis; \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
	    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true; \
	fi

# Two processes share the suite, a file at a time (each has its own databases, SeaweedFS
# and SMTP server); TEST_WORKERS=0 runs it in this one process. Tests marked "alone" (the
# slow-phone step times) run afterwards with the machine to themselves: the other
# process's load would count against the phone. Exit 5 is "none selected".
TEST_WORKERS ?= 2
test: install-test services
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not alone" $(PYTEST_ARGS)
	$(PY) -m pytest -m alone $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install-test services
	$(PY) bench/workflows.py
	$(PY) bench/ranking.py
	$(PY) bench/reminders.py
	$(PY) bench/exports.py
	$(PY) bench/dashboards.py
	$(PY) bench/duplicates.py
	$(PY) bench/bulk_actions.py

# The served app under load (settings: BENCH_LOAD_* variables, see bench/load.py).
bench-load: install-test services
	$(PY) bench/load.py

migration: install
	$(FLASK) db migrate -m "$(MESSAGE)"

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
