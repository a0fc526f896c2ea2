# Two entry points (see README): `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo serve test check setup browser js postgres clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	$(VENV)/bin/python -c "from carescheduler import warm_up; warm_up()"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/carescheduler demo --time-limit 20 --out demo-output

# The service on the embedded default (SQLite in ./carescheduler.db) with today's demo day
# loaded and solved; OpenAPI docs at http://127.0.0.1:8000/docs. Prints a coordinator and a
# carer token, and a one-time link that signs a browser in to the coordinator's board.
serve: $(STAMP)
	$(VENV)/bin/python -m api serve --demo

# The browser tests need Debian's chromium (Playwright drives it; it downloads no browser of
# its own): installed here when we may (root with apt-get), otherwise those tests are skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium fonts-dejavu-core; \
	else echo "no chromium (and not root with apt-get): the browser tests will be skipped"; fi

# axe-core, the accessibility checker the browser tests run in pages, from npm at the version
# package-lock.json pins (no install scripts run). Debian's npm is installed here when we may
# (root with apt-get); without npm the accessibility checks are skipped, saying why.
js:
	@if [ -f node_modules/axe-core/axe.min.js ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then :; \
	else \
		command -v npm >/dev/null 2>&1 || \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; \
		fi; \
		if command -v npm >/dev/null 2>&1; then npm ci --ignore-scripts --no-audit --no-fund; \
		else echo "no npm (and not root with apt-get): no axe-core, the browser tests' accessibility checks will be skipped"; fi; \
	fi

# The service's tests also run on PostgreSQL: its server programs (Debian's postgresql) are
# installed here when we may; the tests start a throwaway server on loopback themselves.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			postgresql; \
	else echo "no PostgreSQL server (and not root with apt-get): the service's PostgreSQL tests will be skipped"; fi

# Lint (ruff's rule families), formatting and types (mypy over src/ and api/): run first by
# `make test`, so CI fails on them before spending its time on the tests.
check: $(STAMP)
	$(VENV)/bin/ruff check src api tests benchmarks
	$(VENV)/bin/ruff format --check src api tests benchmarks
	$(VENV)/bin/mypy

test: $(STAMP) browser js postgres check
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
