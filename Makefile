# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Runs a command against DATABASE_URL, or an embedded PostgreSQL when it is unset (iwp_licensing/devdb.py).
DEVDB := $(BIN)/python -m iwp_licensing.devdb

# Tests run against real PostgreSQL and Redis (127.0.0.1 unless told otherwise); when nothing
# answers there, against an embedded PostgreSQL under var/test-postgres and without Redis.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/iwp_licensing
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=
IWP_SCREENSHOTS_DIR ?= $(CURDIR)/test-results/screenshots

.PHONY: install demo test browser screenshots lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium for the browser tests, from Debian (a test tool cannot download its own).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  { echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Start the product with demo data: an embedded PostgreSQL under var/postgres and a filesystem
# broker under var/ unless DATABASE_URL / REDIS_URL are set. The server stops when the demo does.
# One command under devdb, honcho last and exec'd: a stop signal reaches each process once.
demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" DEBUG=1 $(DEVDB) var/postgres -- sh -c 'python manage.py migrate --no-input \
	  && python manage.py seed_demo && exec honcho -f Procfile.demo start'

test: install browser
	IWP_SCREENSHOTS_DIR=$(IWP_SCREENSHOTS_DIR) DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=0 SECRET_KEY=test-only-secret-key \
	  IWP_TRUST_DEMO_KEY=0 SECURE_SSL_REDIRECT=0 $(DEVDB) --fallback var/test-postgres -- $(BIN)/pytest $(PYTEST_ARGS)

# Refresh the README's screenshots from the browser tests.
screenshots: install browser
	$(MAKE) test IWP_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots PYTEST_ARGS="-m browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DEBUG=1 DATABASE_URL=$(dir $(TEST_DATABASE_URL))postgres $(DEVDB) --fallback var/test-postgres -- \
	  $(BIN)/python manage.py makemigrations --check --dry-run

# Logins and mail while workers are killed and PostgreSQL, Redis and SMTP restart, against a stack
# of its own under var/faults/ (bench/faults.py); what the table means: docs/reliability.md.
.PHONY: faults
faults: install
	$(BIN)/python bench/faults.py

# Mutation testing of the rule modules (mutmut, [tool.mutmut] in pyproject.toml; docs/testing.md):
# about an hour on 2 cores, so not part of `make test` or CI. Its own database (the test database's
# name + _mutation), so a `make test` running beside it cannot disturb it; niced, so it does not
# starve other work. Results are kept in mutants/: a second run tests only what changed
# (`rm -rf mutants` for a fresh one). Prints the score of each module at the end.
# No Redis either (the local-memory cache and the filesystem broker): a test session flushes its
# Redis database when it starts.
MUTATION_DATABASE_URL ?= $(TEST_DATABASE_URL)_mutation
MUTATION_REDIS_URL ?=
MUTATION_CHILDREN ?= 2
# Mutant name patterns to run (re)run only those, e.g. MUTANTS='seats.rules.* compliance.services.*'.
MUTANTS ?=
.PHONY: mutation
mutation: install
	test -x $(BIN)/mutmut || $(BIN)/pip install --quiet -e '.[test,mutation]'
	IWP_SCREENSHOTS_DIR=$(IWP_SCREENSHOTS_DIR) DATABASE_URL=$(MUTATION_DATABASE_URL) REDIS_URL=$(MUTATION_REDIS_URL) DEBUG=0 SECRET_KEY=test-only-secret-key \
	  IWP_TRUST_DEMO_KEY=0 SECURE_SSL_REDIRECT=0 nice -n 19 $(DEVDB) --fallback var/test-postgres -- \
	  sh -c '$(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(MUTANTS); $(BIN)/python -m tests.mutation.report'

clean:
	rm -rf $(VENV) var staticfiles mutants
