#!/usr/bin/env bash
# forage bundle report: a real bundle from `forage collect` of a payload process connected to an
# address on loopback, with a hostile command line, run as a batch job (SLURM_JOB_ID=777) with an
# X.509 proxy (X509_USER_PROXY: a self-signed "user" certificate and its key, made here with
# openssl); the HTML report rendered by headless chromium: scripts ran, the first screen's target
# table holds the pid, user, DN, job id and exe sha256, no visible text is JSON, the timeline
# shows the process start, the connection and forage's own actions, nothing from the bundle
# became markup, a screenshot is kept under the build dir. The Markdown, rendered by a CommonMark
# parser (cmark-gfm), has the same target table and no JSON outside code; TLP at top and bottom.
# ctest-labels: root
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
CMARK=$(command -v cmark-gfm || true)

# The job's proxy: certificate and key in one PEM file, as voms-proxy-init writes it. The DN is
# what the report must show; the key is never copied (the collector keeps certificates only).
DN="/DC=org/DC=example/O=Forage Test/CN=Alice Analyst"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
  -subj "$DN" 2>/dev/null
cat "$T/cert.pem" "$T/key.pem" >"$T/x509up_u0"
chmod 600 "$T/x509up_u0"

loopback_listener 127.0.0.78
srv=$LISTENER_PID port=$LISTENER_PORT
# The payload, with a command line an attacker chose.
pybin=$(python3 -c 'import sys; print(sys.executable)')
SLURM_JOB_ID=777 X509_USER_PROXY="$T/x509up_u0" \
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
cp "$T/out" "$T/report.json.keep"
jq -e '.tlp == "TLP:RED" and .case == "EGI-20261123-09" and .verification.valid == true' "$T/out" >/dev/null && ok || fail "json: header"
jq -e "any(.timeline[]; .kind == \"process\" and (.what | startswith(\"pid $payload started\")))" "$T/out" >/dev/null && ok || fail "json: no process start event"
jq -e "any(.timeline[]; .kind == \"connection\" and (.what | contains(\"127.0.0.78:$port\")))" "$T/out" >/dev/null && ok || fail "json: no connection event"
jq -e 'any(.timeline[]; .kind == "action" and (.what | startswith("collect.begin")))' "$T/out" >/dev/null && ok || fail "json: no action event"
jq -e ".summary[1].id == \"targets\" and (.summary[1].table.rows[0][0] == \"$payload\")" "$T/out" >/dev/null && ok || fail "json: the first screen has no target row"
sha=$(jq -r '.summary[1].table.rows[0][6]' "$T/out")
user=$(jq -r '.summary[1].table.rows[0][1]' "$T/out")
[ ${#sha} -eq 64 ] && ok || fail "json: no exe sha256 for the target ($sha)"
expect_exit 2 "$FORAGE" bundle report "$b" --format pdf --allow-unsigned

# check_targets FILE.html KIND: the table after the "Targets" heading holds the pid, the user,
# the DN, the job id and the exe hash (its short form in the cell; the full one in the cell's
# title in HTML, in the footnote list after the table in Markdown); no visible text holds JSON.
# The host's own command lines may hold JSON (a container runtime passes --env {"..."}): the
# process-start events are the bundle's text, shown verbatim, and are left out of that check.
cp "$T/report.json.keep" "$T/report.json"
check_targets() {
  python3 - "$1" "$2" "$payload" "$user" "$DN" "$sha" "$T/report.json" <<'PY'
import html.parser, json, sys
path, kind, pid, user, dn, sha, report = sys.argv[1:]
verbatim = {e["what"] for e in json.load(open(report))["timeline"] if e["kind"] == "process"}
class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = 0; self.code = 0; self.text = []; self.plain = []
        self.heading = None; self.in_h = False; self.section = ""
        self.tables = {}; self.cur = None; self.after = {}; self.titles = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style", "noscript", "title"): self.skip += 1
        if tag in ("code", "pre"): self.code += 1
        if tag in ("h1", "h2", "h3"): self.in_h = True; self.heading = ""
        if tag == "table" and self.section not in self.tables: self.cur = self.section; self.tables[self.cur] = ""
        if tag == "td" and self.cur is not None and a.get("title"): self.titles.append(a["title"])
    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript", "title"): self.skip -= 1
        if tag in ("code", "pre"): self.code -= 1
        if tag in ("h1", "h2", "h3"): self.in_h = False; self.section = self.heading.strip()
        if tag == "table": self.cur = None
        if tag in ("td", "th") and self.cur is not None: self.tables[self.cur] += " | "
    def handle_data(self, d):
        if self.skip: return
        if d.strip() not in verbatim:
            self.text.append(d)
            if not self.code: self.plain.append(d)
        if self.in_h: self.heading += d
        if self.cur is not None: self.tables[self.cur] += d
        self.after.setdefault(self.section, []).append(d)
p = Page(); p.feed(open(path, encoding="utf-8").read())
bad = []
targets = p.tables.get("Targets")
if targets is None: bad.append("no table after the Targets heading (headings: %s)" % list(p.tables))
else:
    for what, v in (("pid", pid), ("user", user), ("DN", dn), ("job id", "777"), ("sha256 (short)", sha[:12])):
        if v not in targets: bad.append("Targets table lacks the %s %r: %s" % (what, v, targets[:600]))
    full = sha in p.titles if kind == "html" else sha in "".join(p.after.get("Targets", []))
    if not full: bad.append("the full exe sha256 is not on the page next to the Targets table")
visible = "".join(p.text if kind == "html" else p.plain)
if '{"' in visible:
    i = visible.index('{"'); bad.append("visible JSON: ..." + visible[max(0, i - 80):i + 120])
for b in bad: print("FAIL(%s): %s" % (kind, b), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# Markdown through a CommonMark parser (GFM tables).
if [ -z "$CMARK" ]; then
  fail "cmark-gfm is not installed (scripts/install-deps.sh installs it)"
else
  "$CMARK" -e table "$T/report.md" >"$T/report-md.html" && ok || fail "cmark-gfm failed"
  check_targets "$T/report-md.html" md && ok || fail "md: the first screen's target table"
  expect_no_grep '<img' "$T/report-md.html" "md: markup from the bundle became HTML"
fi

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
  check_targets "$T/dom.html" html && ok || fail "html: the first screen's target table"
  expect_grep '<details id="d-timeline">' "$T/dom.html"
  shot="$(dirname "$FORAGE")/report-screenshot.png"
  rm -f "$shot"
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --window-size=1280,2000 \
    --screenshot="$shot" "file://$T/report.html" >/dev/null 2>&1 || true
  if [ -s "$shot" ] && [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then ok; else fail "no PNG screenshot at $shot"; fi
fi
finish
