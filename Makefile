# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed
ADR_RULESET ?= ../shared/adr/linter.yaml

.PHONY: screenshots browser-deps report-screenshot run test install lint typecheck openapi openapi-check adr-lint contract-ts pytest worker demo bench bench-smoke wrk migrate clean fuzz chaos profile bench-cpu

run: install ## start the service on 127.0.0.1:$${PORT:-8000} (embedded PostgreSQL without DATABASE_URL)
	$(BIN)/aanmeldpunt serve

test: install lint typecheck openapi-check adr-lint contract-ts pytest ## the whole suite

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lock: ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile -q pyproject.toml --extra dev -o requirements.lock --python-version 3.11

lint: install
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy app

openapi: install ## regenerate the committed OpenAPI document
	$(BIN)/aanmeldpunt openapi --output openapi/openapi.json

openapi-check: install ## the committed document must equal the generated one
	$(BIN)/aanmeldpunt openapi --output $(VENV)/openapi.generated.json >/dev/null
	diff -q openapi/openapi.json $(VENV)/openapi.generated.json || (echo "openapi/openapi.json is stale: run 'make openapi'"; exit 1)

adr-lint: ## the Dutch API Design Rules ruleset, zero errors
	@if [ -f "$(ADR_RULESET)" ]; then \
		npx --yes @stoplight/spectral-cli@6 lint -q -r $(ADR_RULESET) --fail-severity error openapi/openapi.json; \
	else echo "ADR ruleset $(ADR_RULESET) not found; skipping"; fi

contract-ts: ## TypeScript types generated from the committed document (openapi-typescript, default options) type-check the walk-through
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent generate >/dev/null && npx tsc --noEmit -p .

CHROMIUM ?= /usr/bin/chromium
pytest: install browser-deps
	@test -x $(CHROMIUM) || echo "*** NO BROWSER: $(CHROMIUM) is missing, so the browser tests of /aanmelden FAIL. Install it: apt-get install -y chromium (.ci/run does). ***"
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -p no:cacheprovider

browser-deps: ## axe-core for the browser tests, pinned in tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

screenshots: install browser-deps ## the form at /aanmelden (empty, errors, confirmation; phone and desktop) to docs/screenshots/
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m tests.browser.screenshots

fuzz: install ## a long Schemathesis run as every role (the bounded one is part of `make test`)
	$(BIN)/python -m tests.support.fuzz --max-examples $${MAX_EXAMPLES:-300}

chaos: install ## SIGKILL mid-burst (1,000 referrals) and a 10 s database outage; prints the counts
	$(BIN)/python -m tests.support.chaos all

bench: install wrk ## benchmarks against a FastAPI + asyncpg baseline (bench/README.md); writes bench/results.json
	$(BIN)/python -m bench.run

bench-smoke: install wrk ## a tiny run of every benchmark, only to keep the scripts working (CI); figures mean nothing
	BENCH_SCALE=0.01 BENCH_DURATION=1s BENCH_WARMUP=1s BENCH_BACKLOG=2s BENCH_RSS_CHUNK=1s BENCH_CONNECTIONS=4 \
		BENCH_RESULTS=$(VENV)/bench-smoke.json $(BIN)/python -m bench.run

wrk:
	@command -v wrk >/dev/null || (apt-get install -y -q -o DPkg::Lock::Timeout=600 wrk || (apt-get update -q -o DPkg::Lock::Timeout=600 && apt-get install -y -q -o DPkg::Lock::Timeout=600 wrk)) >/dev/null

REPORT ?= report.html
report-screenshot: ## render $(REPORT) (from `aanmeldpunt report`) in headless Chromium to $(REPORT:.html=.png)
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,5000 \
		--screenshot=$(abspath $(REPORT:.html=.png)) file://$(abspath $(REPORT))

migrate: install
	$(BIN)/aanmeldpunt migrate

worker: install
	$(BIN)/aanmeldpunt worker

demo: install
	$(BIN)/aanmeldpunt demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

profile: install wrk ## py-spy profile of a hot path under load: make profile SCENARIO=referral|worklist TARGET=service|baseline
	$(BIN)/python -m bench.profile $${SCENARIO:-referral} $${TARGET:-service}

bench-cpu: install ## CPU ms per referral and per worklist page, service vs the same work by hand, in-process (robust to a busy machine)
	$(BIN)/python -m bench.cpu $${REQUESTS:-200}
