# The two commands: `make run` and `make test`. Everything else is here to serve them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app awards
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint pytest install browser clean-venv

# Re-install only when the declared dependencies change.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "E-waste Awards needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Migrate, load the demo edition on an empty database, then serve with an outbox worker
# beside the web server so that emails are delivered (to instance/mail/ without SMTP).
run: install
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)  (emails go to $${MAIL_SERVER:-instance/mail/})"
	@$(FLASK) outbox work --interval 2 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .

# Browser tests drive Debian's Chromium with Playwright (never `playwright install`).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium for the browser tests"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; \
		else \
			echo "The browser tests need Chromium at $(CHROMIUM): install Debian's chromium package"; exit 1; \
		fi; }

pytest: install browser
	$(BIN)/pytest

test: lint pytest

clean-venv:
	rm -rf $(VENV)
