#!/usr/bin/env bash
# Install what converting with pdfocr needs on Debian/Ubuntu, idempotently, and nothing more:
#   - from Debian's packages: Tesseract with the language data the README's examples and the
#     tests use (eng, fra, deu, chi_sim, heb; its orientation data comes with it), and the
#     Liberation fonts (SIL OFL 1.1) that PDF/A output embeds for the standard fonts an
#     input PDF names without embedding them (pdfocr/fontsubstitutes.py);
#   - a virtual environment .venv holding pdfocr (editable) with the extras the README's
#     examples use: the second engine (rapidocr), the service (server), the cluster and the
#     PostgreSQL index's client (postgres). All of them are wheels from PyPI.
# What only the tests need (extractors, PDFBox, Chromium, a PostgreSQL server, test tools)
# is scripts/test-stack.sh's, which scripts/test.sh runs.
# Uses sudo for apt-get when not run as root. PYTHON picks the interpreter (3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt.sh

packages=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-chi-sim tesseract-ocr-heb fonts-liberation2)
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
# Debian's python3 needs python3-venv (ensurepip) to make a virtual environment.
"$python" -c "import ensurepip" 2>/dev/null || packages+=(python3-venv)
install_missing "${packages[@]}"

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[rapidocr,server,cluster,postgres]"
