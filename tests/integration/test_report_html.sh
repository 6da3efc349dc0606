#!/usr/bin/env bash
# forage bundle report: a real bundle from `forage collect` of a payload process connected to an
# address on loopback, with a hostile command line; the HTML report rendered by headless
# chromium: scripts ran, the timeline shows the process start, the connection and forage's own
# actions, nothing from the bundle became markup, a screenshot is kept under the build dir.
# Markdown and JSON forms: TLP at top and bottom, verification verdict.
# ctest-labels: root
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

python3 - "$T/port" <<'EOF' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.78", 0)); s.listen(4)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
EOF
srv=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
# The payload, with a command line an attacker chose.
pybin=$(python3 -c 'import sys; print(sys.executable)')
"$pybin" -c "import socket,time,sys; c=socket.create_connection(('127.0.0.78', $port)); time.sleep(120)" \
  '</script><script>document.title="pwned"</script>' '<img src=x onerror=alert(1)>' &
payload=$!
trap 'kill $srv $payload 2>/dev/null; rm -rf "$T"' EXIT
# Until the payload's connection is up (state 01 in /proc/net/tcp, remote port in hex).
hexport=$(printf '%04X' "$port")
for _ in $(seq 100); do grep -q ":$hexport 01 " /proc/net/tcp && break; sleep 0.1; done

mkdir -p "$T/out.d"
expect_exit 0 "$FORAGE" collect --pid "$payload" --out "$T/out.d" --no-sign --profile process \
  --case EGI-20261123-09 --tlp red
b=$(ls "$T"/out.d/*.tar | head -1)
[ -n "$b" ] && ok || fail "no bundle from forage collect"

# Unsigned: the report is written and says so; the exit code is 4 without --allow-unsigned.
expect_exit 4 "$FORAGE" bundle report "$b" --format md
expect_grep '^\*\*TLP:RED\*\*$' "$T/out"
expect_grep '^\*\*INVALID\*\*' "$T/out"
expect_exit 0 "$FORAGE" bundle report "$b" --format md --allow-unsigned
cp "$T/out" "$T/report.md"
if [ "$(head -1 "$T/report.md")" = "**TLP:RED**" ] && [ "$(tail -1 "$T/report.md")" = "**TLP:RED**" ]; then ok; else fail "md: TLP not first and last line"; fi
expect_grep '^\*\*VALID \(UNSIGNED' "$T/report.md"
for s in "Who detected the incident" "Affected hosts" "Appliance" "Grid identities" "Entry points" \
  "Attacker IP addresses" "Evidence, with timestamps" "What was lost" "Other sites affected" \
  "Vulnerabilities exploited" "Actions taken" "Timeline" "Closure report"; do
  expect_grep "^## $s" "$T/report.md" "md: no section $s"
done
expect_no_grep '<img src' "$T/report.md" "md: raw HTML from the bundle"
expect_exit 0 "$FORAGE" bundle report "$b" --format json --allow-unsigned
jq -e '.tlp == "TLP:RED" and .case == "EGI-20261123-09" and .verification.valid == true' "$T/out" >/dev/null && ok || fail "json: header"
jq -e "any(.timeline[]; .kind == \"process\" and (.what | startswith(\"pid $payload started\")))" "$T/out" >/dev/null && ok || fail "json: no process start event"
jq -e "any(.timeline[]; .kind == \"connection\" and (.what | contains(\"127.0.0.78:$port\")))" "$T/out" >/dev/null && ok || fail "json: no connection event"
jq -e 'any(.timeline[]; .kind == "action" and (.what | startswith("collect.begin")))' "$T/out" >/dev/null && ok || fail "json: no action event"
expect_exit 2 "$FORAGE" bundle report "$b" --format pdf --allow-unsigned

# HTML in a real browser.
expect_exit 0 "$FORAGE" bundle report "$b" --format html --allow-unsigned -o "$T/report.html"
expect_no_grep '(src|href)="?(https?:)?//' "$T/report.html" "html: a network reference"
expect_grep "Content-Security-Policy\" content=\"default-src 'none'" "$T/report.html"
expect_no_grep '<img src' "$T/report.html" "html: unescaped markup from the bundle"
if [ -z "$CHROMIUM" ]; then
  fail "chromium is not installed (scripts/install-deps.sh installs it)"
else
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom "file://$T/report.html" \
    >"$T/dom.html" 2>"$T/chromium.err" || true
  n=$(grep -o 'data-timeline-events="[0-9]*"' "$T/dom.html" | grep -o '[0-9]*' || echo 0)
  [ "${n:-0}" -gt 3 ] && ok || fail "html: the timeline script did not run (events: ${n:-none})"
  grep -q "<li class=\"ev ev-process\" data-kind=\"process\"><time>[^<]*</time><span class=\"kind\">process</span><span class=\"what\">pid $payload started" "$T/dom.html" && ok || fail "html: no process start in the rendered timeline"
  grep -q "class=\"ev ev-connection\".*127.0.0.78:$port" "$T/dom.html" && ok || fail "html: no connection in the rendered timeline"
  grep -q 'class="ev ev-action".*collect.begin' "$T/dom.html" && ok || fail "html: no forage action in the rendered timeline"
  expect_no_grep '<title>pwned' "$T/dom.html" "html: a script from the bundle ran"
  expect_no_grep '<img' "$T/dom.html" "html: an element from the bundle"
  expect_grep '&lt;img src=x onerror=alert\(1\)&gt;' "$T/dom.html"
  expect_grep 'id="tlp-top">TLP:RED<' "$T/dom.html"
  expect_grep 'id="tlp-bottom">TLP:RED<' "$T/dom.html"
  shot="$(dirname "$FORAGE")/report-screenshot.png"
  rm -f "$shot"
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --window-size=1280,2400 \
    --screenshot="$shot" "file://$T/report.html" >/dev/null 2>&1 || true
  if [ -s "$shot" ] && [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then ok; else fail "no PNG screenshot at $shot"; fi
fi
finish
