# The two commands: `make run` and `make test`. Everything else is here to serve them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app awards
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint pytest install browser fonts clean-venv translations-extract translations-compile

# Re-install only when the declared dependencies change.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "E-waste Awards needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations-compile

# Translations: awards/translations/<lang>/LC_MESSAGES/messages.po are written by hand and kept in
# git; the compiled .mo files are build products (ignored by git), rebuilt when their .po changes.
CATALOGUES := $(wildcard awards/translations/*/LC_MESSAGES/messages.po)
translations-compile: $(CATALOGUES:.po=.mo)

%/LC_MESSAGES/messages.mo: %/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# Collect every marked string (Python, templates, email bodies) into the template, then merge it
# into each catalogue: new strings arrive untranslated, changed ones fuzzy, for a translator.
translations-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		--add-comments=TRANSLATORS: --project="E-waste Awards" --copyright-holder="UN E-waste Coalition" \
		-o awards/translations/messages.pot .
	$(BIN)/pybabel update -i awards/translations/messages.pot -d awards/translations \
		--ignore-obsolete --previous --ignore-pot-creation-date

# Migrate, load the demo edition on an empty database, then serve with an outbox worker
# beside the web server so that emails are delivered (to instance/mail/ without SMTP).
run: install
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)  (emails go to $${MAIL_SERVER:-instance/mail/})"
	@$(FLASK) outbox work --interval 2 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port $(PORT)

# Security tools: bandit on the package (skips justified in pyproject.toml), then pip-audit
# on the installed dependencies. pip-audit asks PyPI's JSON API about each installed version
# (/pypi/<name>/<version>/json); where that cannot be reached (offline, or a mirror that
# serves only the package index) it is skipped with a message: the probe asks for pip's own
# version, with a 5-second timeout. Vulnerabilities accepted for a reason are listed, one per
# line with the reason after '#', in .pip-audit-ignore.
PIP_AUDIT_API ?= https://pypi.org/pypi
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check awards tests bench wsgi.py
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive awards
	@if $(BIN)/python -c 'import json, sys, urllib.request, pip; \
		url = f"{sys.argv[1]}/pip/{pip.__version__}/json"; \
		sys.exit("vulnerabilities" not in json.load(urllib.request.urlopen(url, timeout=5)))' \
		'$(PIP_AUDIT_API)' >/dev/null 2>&1; then \
		$(BIN)/pip-audit --skip-editable --progress-spinner off \
			$$(sed -e 's/#.*//' .pip-audit-ignore | xargs -r printf -- '--ignore-vuln %s '); \
	else \
		echo "pip-audit skipped: PyPI's vulnerability data ($(PIP_AUDIT_API)/<name>/<version>/json) cannot be reached from here"; \
	fi

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

# Certificates (PDF) are drawn with DejaVu (Latin, Cyrillic, Greek, Arabic) and Droid Sans
# Fallback (Chinese, Japanese, Korean): Debian's fonts-dejavu-core and fonts-droid-fallback.
CERTIFICATE_FONTS ?= /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf \
	/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
fonts:
	@missing=; for font in $(CERTIFICATE_FONTS); do test -f $$font || missing=1; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's fonts for the certificates"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core fonts-droid-fallback >/dev/null 2>&1 || \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core fonts-droid-fallback; }; \
		else \
			echo "Certificates need Debian's fonts-dejavu-core and fonts-droid-fallback"; exit 1; \
		fi; \
	fi

pytest: install browser fonts
	$(BIN)/pytest

test: lint pytest

clean-venv:
	rm -rf $(VENV)
