#!/usr/bin/env bash
# Install what the tests need on top of scripts/bootstrap.sh's (which it runs first), idempotently:
#   - from Debian's packages: poppler-utils and qpdf (the tests read PDFs back with them), the
#     fonts the tests draw their pages with, MuPDF's mutool and Ghostscript (extractors the
#     tests read the text layer with; Node.js too, for pdf.js), Apache PDFBox (with a Java
#     runtime, if there is none) whose Preflight checks PDF/A outputs, Chromium (the
#     service's page in a real browser), a PostgreSQL server (the index's tests start a
#     cluster of their own) and openssl (the cluster's TLS test makes its certificate);
#   - pdfocr's test tools in .venv (and PAGE XML's schema), and pdf.js from npm in tests/pdfjs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
source scripts/apt.sh

packages=(
  poppler-utils qpdf fonts-dejavu-core fonts-wqy-zenhei
  libpdfbox2-java libactivation-java libjaxb-api-java  # Preflight needs the last two on Java 11+
  mupdf-tools ghostscript chromium postgresql openssl
)
command -v java >/dev/null || packages+=(default-jre-headless)
command -v npm >/dev/null || packages+=(nodejs npm)
install_missing "${packages[@]}"

.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
# PAGE XML's schema, from the OCR-D validators' wheel (Apache-2.0), for the word outputs'
# tests; without its dependencies (a web stack the schema file does not need).
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "ocrd-validators==2.67.1"
# pdf.js (pdfjs-dist, pinned in tests/pdfjs/package-lock.json) for the tests' extractor runs.
[ -d tests/pdfjs/node_modules/pdfjs-dist ] || npm ci --prefix tests/pdfjs --no-audit --no-fund --silent
