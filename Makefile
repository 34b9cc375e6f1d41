# Slipway: `make run` starts it, `make test` tests it. Both set up what they need.
VENV      ?= .venv
PYTHON    ?= python3
PORT      ?= 5000
HOST      ?= 127.0.0.1
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
TOOLS     := tools/node_modules/.installed

.PHONY: run install images test test-fast lint screenshots clean

run: install
	@# The key that encrypts secret variables: made once, kept beside the database.
	@data=$${SLIPWAY_DATA_DIR:-var}; [ -n "$$SECRETS_KEY" ] || [ -s $$data/secrets.key ] || \
	    (mkdir -p $$data && umask 077 && $(BIN)/python -m app.secrets > $$data/secrets.key)
	$(BIN)/flask --app wsgi db upgrade
	@echo "Slipway is starting at http://localhost:$(PORT)/ (Ctrl-C stops it)"
	@# Ctrl-C stops builds now (SIGINT); a plain SIGTERM would let them finish first.
	@trap 'kill -INT 0 2>/dev/null' INT TERM; \
	SITES_DOMAIN=$${SITES_DOMAIN:-localhost:$(PORT)} $(BIN)/gunicorn -k gevent -w $${WEB_WORKERS:-1} \
	    --bind $(HOST):$(PORT) --graceful-timeout 10 --access-logfile - wsgi:app & \
	SITES_DOMAIN=$${SITES_DOMAIN:-localhost:$(PORT)} $(BIN)/python huey_consumer.py & \
	wait

install: $(STAMP) $(TOOLS)

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# yarn and pnpm, pinned, for the builds Slipway runs.
$(TOOLS): tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $@

# The whole suite twice: on SQLite (the embedded default), then on PostgreSQL.
test: install
	bash .ci/system-deps.sh
	$(MAKE) images NODE_VERSIONS="18 20"
	$(BIN)/pytest -q -ra
	SLIPWAY_TEST_DATABASE=postgresql $(BIN)/pytest -q -ra

# Node images for the Docker runner, built from packages (no image registry).
NODE_VERSIONS ?= 16 18 20 22
images: install
	for v in $(NODE_VERSIONS); do \
	  docker image inspect slipway-node:$$v >/dev/null 2>&1 || \
	  $(BIN)/flask --app wsgi images build --node $$v --tag 'slipway-node:{version}' || exit 1; \
	done

test-fast: install
	$(BIN)/pytest -q -ra -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

screenshots: install
	SLIPWAY_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/test_browser.py

clean:
	rm -rf $(VENV) tools/node_modules
