#!/usr/bin/env bash
# OCRmyPDF for the comparison in bench/compare.py, in the benchmark's own virtual
# environment (bench/.venv-ocrmypdf): never a dependency of pdfocr. It needs Ghostscript
# (and pngquant for -O2/-O3), which this installs from Debian's packages if missing.
set -euo pipefail
cd "$(dirname "$0")"
# pngquant: what OCRmyPDF's -O2/-O3 need (bench/optimize.py compares them).
if ! command -v gs >/dev/null || ! command -v pngquant >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends ghostscript pngquant >/dev/null
fi
[ -x .venv-ocrmypdf/bin/python ] || python3 -m venv .venv-ocrmypdf
.venv-ocrmypdf/bin/python -m pip install -q --disable-pip-version-check ocrmypdf img2pdf
