# Two entry points (see README): `make demo` and `make test`. Each sets up .venv first.
# `make bench` runs the speed benchmarks against their stored baselines (CI runs it after the tests).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo serve test bench bench-baseline check setup browser js postgres strace clean

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

# The durability test traces the server's syscalls (tests/test_durability.py): Debian's strace,
# installed here when we may; without it that test is skipped, saying why.
strace:
	@command -v strace >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends strace; \
	else echo "no strace (and not root with apt-get): the durability trace test will be skipped"; fi

# Lint (ruff's rule families), formatting and types (mypy over src/ and api/): run first by
# `make test`, so CI fails on them before spending its time on the tests.
check: $(STAMP)
	$(VENV)/bin/ruff check src api tests benchmarks
	$(VENV)/bin/ruff format --check src api tests benchmarks
	$(VENV)/bin/mypy

test: $(STAMP) browser js postgres strace check
	$(VENV)/bin/python -m pytest -q

# The speed benchmarks (pytest-benchmark), each compared with the baseline stored in
# benchmarks/baselines/: a run fails only when a hot path is three times slower than its
# baseline's fastest round, or a solve with a time limit takes half as long again (a phase
# that stopped looking at the clock). The run's figures go to benchmark-results/.
BENCH := $(VENV)/bin/python -m pytest -q --benchmark-columns=min,median,max,rounds
bench: $(STAMP)
	mkdir -p benchmark-results
	$(BENCH) benchmarks/test_speed.py --benchmark-compare=benchmarks/baselines/speed.json \
		--benchmark-compare-fail=min:200% --benchmark-json=benchmark-results/speed.json
	$(BENCH) benchmarks/test_time_limits.py --benchmark-compare=benchmarks/baselines/time_limits.json \
		--benchmark-compare-fail=max:50% --benchmark-json=benchmark-results/time_limits.json

# Saves this machine's figures as the baselines `make bench` compares with (commit them with
# a note in benchmarks/RESULTS.md of the machine and the commit they were measured at).
bench-baseline: $(STAMP)
	mkdir -p benchmarks/baselines
	$(BENCH) benchmarks/test_speed.py --benchmark-json=benchmarks/baselines/speed.json
	$(BENCH) benchmarks/test_time_limits.py --benchmark-json=benchmarks/baselines/time_limits.json

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis benchmark-results
