#!/usr/bin/env bash
# `forage ioc parse` on CSIRT broadcast e-mails: the example broadcast (multipart, quoted-printable
# with soft breaks inside an IP and a hash, HTML alternative, base64 CSV attachment, Received and
# DKIM headers, the sender's own wiki links) gives exactly the hand-written indicator list; damaged
# e-mails give exit 2 and one line naming the file and the MIME part, or exit 3 with the good
# parts' indicators under --keep-going. jq judges the JSON.
. "$(dirname "$0")/lib.sh"

EML="$FORAGE_SRC/docs/examples/broadcast.eml"
DATA="$FORAGE_SRC/tests/data/email"

# --- the example broadcast: exact TSV
expect_exit 0 "$FORAGE" ioc parse "$EML" --format tsv
if diff -u "$DATA/broadcast.expected.tsv" "$T/out" >"$T/diff"; then ok; else
  fail "broadcast.eml TSV differs from tests/data/email/broadcast.expected.tsv:"
  sed 's/^/    /' "$T/diff" >&2
fi
cp "$T/out" "$T/broadcast.tsv"

# --- JSON: TLP and case of the whole e-mail, per-indicator sources and TLP
expect_exit 0 "$FORAGE" ioc parse "$EML" --format json
cp "$T/out" "$T/broadcast.json"
J="$T/broadcast.json"
check_jq() {  # check_jq FILTER MESSAGE: the filter must print true
  if [ "$(jq -r "$1" "$J" 2>/dev/null)" = "true" ]; then ok; else fail "$2 (jq: $1)"; fi
}
check_jq '.tlp == "TLP:AMBER"' "e-mail TLP is not TLP:AMBER"
check_jq '.case == "EGI-20261120-01"' "case tag EGI-20261120-01 missing"
check_jq '[.indicators[].tlp] | all(. == "TLP:AMBER")' "not every indicator carries TLP:AMBER"
# 198.51.100.23 and the ratatosk.sh sha256 are split by QP soft line breaks in the encoded text.
if grep -aq $' 198=\r$' "$EML"; then ok; else fail "no soft break inside 198.51.100.23 in the example"; fi
if grep -aq $' 7a3a714833d=\r$' "$EML"; then ok; else fail "no soft break inside the sha256 in the example"; fi
check_jq '[.indicators[] | select(.type == "ipv4" and .value == "198.51.100.23")
          | .source.part == "1.1" and .source.line > 0] == [true]' \
  "soft-broken IP 198.51.100.23 not found in part 1.1 with a line"
check_jq '[.indicators[] | select(.type == "sha256" and
          .value == "7a3a714833d5552d41583ea6550f2f528f4a3b18df8360863a3041cdc704d0a9")] | length == 1' \
  "soft-broken sha256 not found"
check_jq '[.indicators[] | select(.value == "198.51.100.77") | .source.part] == ["2/iocs.csv"]' \
  "CSV attachment indicator without part 2/iocs.csv as source"
check_jq '[.notes[] | select(test("sender.s own domain \\(egi.eu\\)"))] | length == 1' \
  "no note about the values dropped at the sender's domain"

# --- transport headers and the sender's own domain never give indicators
for bad in '192\.0\.2\.' '127\.0\.0\.1' '2001:db8:ffff' 'uni-example\.nl' 'nren-transit' 'egi\.eu'; do
  expect_no_grep "$bad" "$T/broadcast.tsv" "header/sender value /$bad/ became an indicator"
done
check_jq '[.indicators[].value | select(test("egi\\.eu|192\\.0\\.2\\.|uni-example"))] | length == 0' \
  "header or sender value in the JSON indicators"

# --- the same e-mail with LF line ends and an mbox "From " line reads the same
{ printf 'From abuse@egi.eu Fri Nov 20 15:30:58 2026\n'; tr -d '\r' <"$EML"; } >"$T/mbox.eml"
expect_exit 0 "$FORAGE" ioc parse "$T/mbox.eml" --format tsv
if cmp -s "$T/out" "$T/broadcast.tsv"; then ok; else fail "LF/mbox variant gives another set"; fi

# --- a forwarded broadcast (message/rfc822): inner parts numbered, both senders' domains dropped
expect_exit 0 "$FORAGE" ioc parse "$DATA/forwarded.eml" --format json
J="$T/out"
check_jq '[.indicators[] | select(.value == "203.0.113.45") | .source.part] == ["2.1"]' \
  "forwarded body indicator without part 2.1"
check_jq '[.indicators[] | select(.value == "198.51.100.150") | .source.part] == ["2.2/extra.csv"]' \
  "forwarded attachment indicator without part 2.2/extra.csv"
check_jq '.tlp == "TLP:AMBER" and .case == "EGI-20261120-01"' "forwarded TLP/case lost"
check_jq '[.indicators[].value | select(test("egi\\.eu|uni-example\\.nl"))] | length == 0' \
  "a sender's domain became an indicator in the forward"

# --- damaged e-mails: exit 2, one line naming the file and the part
expect_exit 2 "$FORAGE" ioc parse "$DATA/truncated.eml" --format tsv
expect_lines 1 "$T/err"
expect_grep '^forage: .*truncated\.eml!2/iocs\.csv: truncated' "$T/err" \
  "truncated e-mail: no one-line message naming truncated.eml!2/iocs.csv"
expect_lines 0 "$T/out"

expect_exit 2 "$FORAGE" ioc parse "$DATA/bad_base64.eml" --format tsv
expect_lines 1 "$T/err"
expect_grep "bad_base64\.eml!2/iocs\.csv: invalid base64: invalid character '!' at line 3" "$T/err" \
  "invalid base64: message does not name the file, part and line"

# --- --keep-going: the good parts' indicators, exit 3, the problems logged
expect_exit 3 "$FORAGE" ioc parse --keep-going "$DATA/truncated.eml" --format tsv
expect_grep '^ipv4	198\.51\.100\.23$' "$T/out" "keep-going: the good text part's IP is missing"
expect_grep '^ipv4	203\.0\.113\.45$' "$T/out" "keep-going: whole lines of the cut CSV are missing"
expect_no_grep '^sha256	' "$T/out" "keep-going: the cut-off last CSV line gave a hash"
expect_grep 'truncated\.eml!2/iocs\.csv: truncated' "$T/err"

expect_exit 3 "$FORAGE" ioc parse --keep-going "$DATA/bad_base64.eml" --format json
J="$T/out"
check_jq '[.errors[] | select(test("bad_base64\\.eml!(2/iocs\\.csv|3): invalid base64"))] | length == 2' \
  "keep-going JSON does not list both bad parts"
check_jq '[.indicators[].value] == ["198.51.100.23"]' "keep-going: wrong indicators from bad_base64.eml"

# keep-going across files: a damaged e-mail does not hide the good one
expect_exit 3 "$FORAGE" ioc parse --keep-going --format tsv "$DATA/bad_base64.eml" "$EML"
expect_grep '^sha1	b20cd916c38c0bca9e9e2008150d690b946e8f44$' "$T/out"

# --- binary attachment: skipped with a note naming it; JSON attachment read
expect_exit 0 "$FORAGE" ioc parse "$DATA/attachments.eml" --format json
J="$T/out"
check_jq '[.notes[] | select(test("attachments\\.eml!2/report\\.pdf: application/pdf attachment skipped"))] | length == 1' \
  "no note naming the skipped PDF"
check_jq '[.indicators[] | select(.value == "kworker-sync.net") | .source.part] == ["3/event.json"]' \
  "MISP JSON attachment not read"

finish
