#!/usr/bin/env bash
# Make pdfocr's Aspose OCR engine ready, idempotently, in the active Python environment:
#   1. pip installs the "aspose" extra (aspose-ocr-python-net, ~140 MB) unless present;
#   2. unless OpenSSL 1.1 is already found, unpacks Debian 11's libssl1.1 (or Ubuntu
#      20.04's on Ubuntu) into the folder pdfocr looks in (pdfocr.engines.aspose.native_folder:
#      lib/pdfocr-native in the environment, or $PDFOCR_NATIVE_DIR). The package is fetched
#      with apt from the mirror the system already uses, through a private package list:
#      the system's package sources and installed packages are left as they are.
# Run it with the target environment active (or PYTHON=/path/to/python). Needs
# apt-get and dpkg-deb (Debian/Ubuntu), and network access to PyPI and the mirror.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$(command -v python3 || command -v python)}
say() { echo "setup-aspose: $*" >&2; }

if "$python" -c "import importlib.metadata as m; m.version('aspose-ocr-python-net')" 2>/dev/null; then
  say "aspose-ocr-python-net is installed"
else
  say "installing pdfocr[aspose] into $("$python" -c 'import sys; print(sys.prefix)')"
  # With pdfocr installed (perhaps editable), add only what its "aspose" extra requires.
  extra=$("$python" -c '
import importlib.metadata as m
for requirement in m.requires("pdfocr") or []:
    if "extra == \"aspose\"" in requirement:
        print(requirement.split(";")[0].strip())
' 2>/dev/null || true)
  if [ -n "$extra" ]; then
    "$python" -m pip install -q --disable-pip-version-check $extra
  else
    "$python" -m pip install -q --disable-pip-version-check ".[aspose]"
  fi
fi

found=$("$python" -c "from pdfocr.engines.aspose import openssl_folder; print(openssl_folder() or '')")
if [ -n "$found" ]; then
  say "OpenSSL 1.1 found in $found"
  exit 0
fi
target=$("$python" -c "from pdfocr.engines.aspose import native_folder; print(native_folder() / 'openssl-1.1')")

# The archive and suite that still carry libssl1.1, for this distribution.
. /etc/os-release
# Derivatives (Linux Mint...) name their own release; the mirror serves the base's.
codename=${UBUNTU_CODENAME:-${VERSION_CODENAME:-}}
if [ -z "$codename" ]; then
  say "cannot tell this system's release; put libssl.so.1.1 and libcrypto.so.1.1 in $target"
  exit 1
fi
case " ${ID:-} ${ID_LIKE:-} " in
  *" ubuntu "*)
    suites="focal focal-updates focal-security"; keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg ;;
  *" debian "*)
    suites="bullseye"; keyring=/usr/share/keyrings/debian-archive-keyring.gpg ;;
  *)
    say "no known way to get OpenSSL 1.1 on ${PRETTY_NAME:-this system}; put libssl.so.1.1 and libcrypto.so.1.1 in $target"
    exit 1 ;;
esac

# The mirror the system already uses for one of its suites (one-line or deb822 sources).
mirror_for() {
  local found
  found=$(
    { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
      awk -v suite="$1" '$1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == suite) { print $2; exit } }'
  )
  if [ -z "$found" ]; then
    found=$(
      awk -v suite="$1" '
        /^[[:space:]]*$/ { uris = ""; suites = "" }
        /^URIs:/ { uris = $2 }
        /^Suites:/ { suites = " " substr($0, 8) " " }
        uris != "" && index(suites, " " suite " ") { print uris; exit }
      ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    )
  fi
  echo "$found"
}
mirror=$(mirror_for "$codename")
if [ -z "$mirror" ]; then
  say "cannot tell which mirror this system uses for $codename; put libssl.so.1.1 and libcrypto.so.1.1 in $target"
  exit 1
fi
lines=()
for suite in $suites; do
  lines+=("deb [signed-by=$keyring] $mirror $suite main")
done
# Debian's security updates of libssl1.1 (1.1.1w-0+deb11u8 and on) come from its own archive.
security=$(mirror_for "$codename-security")
if [ -n "$security" ] && [ "$security" != "$mirror" ]; then
  lines+=("deb [signed-by=$keyring] $security ${suites%% *}-security main")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
printf '%s\n' "${lines[@]}" >"$work/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
)
say "fetching libssl1.1 from $mirror ($suites)${security:+ and $security}"
fail() {
  say "could not fetch libssl1.1 from $mirror (offline?); put libssl.so.1.1 and libcrypto.so.1.1 in $target"
  exit 1
}
apt-get -qq -o APT::Update::Error-Mode=any "${apt_private[@]}" update || fail
(cd "$work" && apt-get -qq "${apt_private[@]}" download libssl1.1) || fail
dpkg-deb -x "$work"/libssl1.1_*.deb "$work/root"
mkdir -p "$target"
cp "$work"/root/usr/lib/*/libssl.so.1.1 "$work"/root/usr/lib/*/libcrypto.so.1.1 "$target/"
say "OpenSSL 1.1 unpacked into $target (from $(basename "$work"/libssl1.1_*.deb))"
