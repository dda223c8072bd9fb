#!/usr/bin/env bash
# Install everything pdfocr needs on Debian/Ubuntu, idempotently:
#   - from Debian packages: Tesseract with the language data the tests use (eng, fra,
#     chi_sim, heb, deu), poppler-utils and qpdf (the tests read PDFs back with them), the
#     fonts the tests draw their pages with, MuPDF's mutool and Ghostscript (extractors
#     the tests read the text layer with; Node.js too, for pdf.js), and Apache PDFBox (with a Java runtime, if
#     there is none) whose Preflight the tests check PDF/A-1b outputs with;
#   - a virtual environment .venv holding pdfocr (editable, with the server extra) and its
#     test tools, and pdf.js from npm in tests/pdfjs;
#   - Debian's Chromium, for the test of the service's page;
#   - Debian's PostgreSQL server, which the index's tests start (a cluster of their own).
# Uses sudo for apt-get when not run as root. PYTHON picks the interpreter (3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-chi-sim tesseract-ocr-heb tesseract-ocr-deu
  poppler-utils qpdf fonts-dejavu-core fonts-wqy-zenhei
  libpdfbox2-java libactivation-java libjaxb-api-java  # Preflight needs the last two on Java 11+
  mupdf-tools ghostscript  # the tests read the text layer back with MuPDF and Ghostscript too
  chromium  # the service's page is tested in a real browser (Playwright drives Debian's Chromium)
  postgresql  # the index's PostgreSQL back end is tested against a real server
  openssl  # the cluster's TLS test makes its certificate with it
)
command -v java >/dev/null || packages+=(default-jre-headless)
command -v npm >/dev/null || packages+=(nodejs npm)  # pdf.js, Firefox's reader, for the tests
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
# Debian's python3 needs python3-venv (ensurepip) to make a virtual environment.
"$python" -c "import ensurepip" 2>/dev/null || packages+=(python3-venv)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
# pdf.js (pdfjs-dist, pinned in tests/pdfjs/package-lock.json) for the tests' extractor runs.
[ -d tests/pdfjs/node_modules/pdfjs-dist ] || npm ci --prefix tests/pdfjs --no-audit --no-fund --silent
