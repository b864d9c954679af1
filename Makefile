# paperfeed: the commands the README names.
PYTHON ?= python3

.PHONY: run test test-deps test-only lint extension bench

## Install and run the product with nothing configured (embedded Redis, demo catalogue).
run:
	$(PYTHON) -m pip install -q -e .
	paperfeed serve

## Install everything the tests need, then run all tests (extension unit tests, then pytest).
test: test-deps test-only

test-deps:
	@bash scripts/install-test-deps.sh

test-only:
	@if [ -f extension/package.json ]; then \
	  npm --prefix extension run lint --silent > "$${TMPDIR:-/tmp}/paperfeed-web-ext-lint.log" 2>&1 \
	    || { cat "$${TMPDIR:-/tmp}/paperfeed-web-ext-lint.log"; exit 1; }; \
	  echo "web-ext lint: no errors"; \
	  npm --prefix extension test --silent; \
	fi
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check backend recommender tests bench
	@if [ -f extension/package.json ]; then npm --prefix extension run lint --silent; fi

## Build dist/paperfeed-chrome.zip and dist/paperfeed-firefox.zip.
extension:
	$(MAKE) -C extension dist
