#!/usr/bin/env bash
# The test command (README, .ci/run): install what is needed, then lint, type-check, test.
# Extra arguments go to pytest, e.g. scripts/test.sh -k cli -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-stack.sh
# The Aspose engine's tests run for real: its package and OpenSSL 1.1 (idempotent).
PYTHON=.venv/bin/python scripts/setup-aspose.sh
export PDFOCR_REQUIRE_ASPOSE=1  # so its tests fail, rather than skip, if it cannot run
.venv/bin/ruff check pdfocr tests scripts bench
.venv/bin/ruff format --check pdfocr tests scripts bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
