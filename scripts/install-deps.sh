#!/usr/bin/env bash
# Installs what forage needs to build and test, from Debian 12 packages only. Idempotent:
# installs nothing when everything is there. Works as root (CI) or through sudo.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git file
  # libraries linked statically into build/forage
  libyara-dev libpcap-dev libmagic-dev libmagic-mgc libssl-dev libzstd-dev libdbus-1-dev
  libjansson-dev liblzma-dev libbz2-dev zlib1g-dev
  libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libgtest-dev
  # data compiled into the binary: the public suffix list (real TLDs)
  publicsuffix
  # real clients used as judges by the tests
  openssl gnupg yara coreutils tar jq gdb binutils tshark tcpdump util-linux python3 zstd
  # the sweep's fleet playbook (tests/integration/test_ansible.sh) and the HTML report's
  # browser test (tests/integration/test_report_html.sh)
  ansible chromium
  # a CommonMark (GFM tables) parser that renders the Markdown report in its test
  cmark-gfm
  # sample binaries for the YARA parity test (tests/integration/test_scan_parity.sh)
  clamav-testfiles
  # peak RSS of hostile cases (/usr/bin/time, tests/integration/test_csirt_hostile.sh); libFuzzer
  # and the instrumented build of `make fuzz` (docs/fuzzing.md)
  time clang
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
