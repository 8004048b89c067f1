#!/usr/bin/env bash
# Screenshot an HTML report in headless Chromium, to look at it without a desktop (a by-hand tool, not a test).
#
#   bench/render_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]      e.g. bench/render_report.sh eval.html /tmp/r.png
#
# Needs chromium (Debian: apt-get install -y chromium). The browser gets a throwaway profile and every
# background network feature off, so the screenshot shows exactly what the file holds; a page that
# needed the network would show holes. Default size 1280x2400 (the page's first screens).
set -eu
report=${1:?usage: bench/render_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]}
out=${2:?usage: bench/render_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]}
size=${3:-1280x2400}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome) \
    || { echo "no chromium found: apt-get install -y chromium" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$(realpath -m "$out")" --window-size="${size/x/,}" "file://$(realpath "$report")" 2>/dev/null
echo "$out"
