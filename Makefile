# Two commands matter: `make run` (the whole service locally) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= prod
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test unit lint bench fuzz load profile template package deploy clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(PY) -m chalicelib.local

test: $(STAMP)
	$(PY) -m ruff check app.py chalicelib tests infra
	sh tests/browser/ensure_chromium.sh
	$(PY) -m pytest -q -n 2 --dist loadgroup

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

lint: $(STAMP)
	$(PY) -m ruff check app.py chalicelib tests infra

# Evidence (bench/RESULTS.md): `bench` measures against same-run baselines and records the table
# (its cold start runs the zip `make package` builds, so it builds it first),
# `fuzz` runs the fuzz suites with 2,000 examples per target, `load` drives `make run`'s stack on
# loopback (LOAD_ARGS="--messages 5000 --clients 500 --concurrency 20"), `profile` profiles the webhook.
bench: $(STAMP)
	$(MAKE) package STAGE=prod
	$(PY) -m bench.run --write
	$(PY) -m bench.console --write
	$(PY) -m bench.dashboard --write
	$(PY) -m bench.reports --write
	$(PY) -m bench.clients --write
	$(PY) -m bench.live --write

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -n 2 -p no:logging tests/unit/test_fuzz_parsers.py \
		tests/e2e/test_fuzz_inbound_webhook.py tests/e2e/test_fuzz_staff_api.py

load: $(STAMP)
	$(PY) -m bench.load --write $(LOAD_ARGS)

profile: $(STAMP)
	$(PY) -m bench.profile

# Deployment (README "Deploying to AWS"). `package` runs offline; `deploy` needs AWS credentials.
# Both need a CPython 3.13 (Lambda's runtime) to compile the zip's bytecode: found on PATH or under
# pyenv, or RUNTIME_PYTHON=/path/to/python3.13. SNAPSTART=1 (or all) publishes versions with
# SnapStart on every function, SNAPSTART=api on the API handler only; RELEASE=<text> publishes anew.
SNAPSTART_ARG = $(if $(filter 1 all yes,$(SNAPSTART)),--snapstart all,$(if $(SNAPSTART),--snapstart $(SNAPSTART)))
RUNTIME_ARG = $(if $(RUNTIME_PYTHON),--runtime-python $(RUNTIME_PYTHON))

template: $(STAMP)
	$(PY) -m infra.generate

package: $(STAMP) template
	$(PY) -m infra.package --stage $(STAGE) $(if $(ONLINE),--online) $(RUNTIME_ARG) $(SNAPSTART_ARG)

deploy: $(STAMP)
	$(PY) -m infra.deploy --stage $(STAGE) $(if $(PUBLIC_URL),--public-url $(PUBLIC_URL)) $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL)) $(if $(ONLINE),--online) $(RUNTIME_ARG) $(SNAPSTART_ARG) $(if $(RELEASE),--release $(RELEASE))

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build chalicelib/policies_bundle
