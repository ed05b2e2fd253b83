# KPM Fleet. The two commands a newcomer needs:
#   make demo   fresh machine -> running platform with a simulated fleet (Ctrl-C stops it all)
#   make test   the whole test suite (parallel), prints pytest's summary line
# and for developers: make lint, make bench.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Stamps make both setup steps idempotent and instant when nothing changed.
VENV_STAMP := $(VENV)/.requirements.stamp
NPM_STAMP := node_modules/.package-lock.json
# Two cores: two xdist workers; override e.g. PYTEST_ARGS="-n 0 -x tests/test_project.py".
PYTEST_ARGS ?= -n 2
# Django management commands run outside the demo need settings that load without secrets.
DEV_ENV := DEBUG=1

.PHONY: help demo test lint bench setup mosquitto-plugin

help:
	@echo "make demo   run the platform with a simulated fleet (FLEET_DEMO_PORT, FLEET_DEMO_PASSWORD)"
	@echo "make test   run the test suite"
	@echo "make lint   ruff, mypy on kpm37/, migrations check, Django system checks"
	@echo "make bench  run the benchmarks in bench/ (each prints measured ratios)"
	@echo "make mosquitto-plugin  build the broker plugin binding meter credentials to payload ids"

setup: $(VENV_STAMP) $(NPM_STAMP)

$(VENV_STAMP): requirements.txt
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# htmx and Chart.js come from npm and are served as our own static files (never a CDN).
$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(DEV_ENV) $(PY) manage.py demo

# Exit code 5 means pytest collected nothing: that is a failure, and we say so.
test: setup
	@$(PY) -m pytest $(PYTEST_ARGS) -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$status

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(DEV_ENV) $(PY) manage.py check

bench: $(VENV_STAMP)
	$(PY) bench/run.py

# The Mosquitto plugin that refuses a meter's publish naming another meter (deploy/README.md).
# Needs Debian's mosquitto-dev and libmosquitto-dev; PLUGIN_OUT moves the result (tests do).
PLUGIN_SRC := deploy/mosquitto/plugin/kpm_payload_id.c
PLUGIN_OUT ?= var/kpm_payload_id.so
CC ?= cc

mosquitto-plugin: $(PLUGIN_OUT)

$(PLUGIN_OUT): $(PLUGIN_SRC)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $<
