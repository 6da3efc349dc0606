#!/usr/bin/env bash
# `forage ioc parse` through the CLI: exit codes, one-line errors naming the file, every output
# format, stdin and -o; the generated YARA rule is judged by the real yara CLI.
. "$(dirname "$0")/lib.sh"

cat > "$T/note.txt" <<'TXT'
Heads-up [EGI-20261120-01] TLP:AMBER
The C2 is at 185.220.101.7/24 and hxxps://evil-c2[.]example[.]com/gate.php
Payload ratatosk.sh, sha256 of the dropper below:
TXT
printf 'drop me\n' > "$T/dropper.bin"
sha=$(sha256sum "$T/dropper.bin" | cut -d' ' -f1)
echo "$sha" >> "$T/note.txt"

# --- usage and input errors: exit 2, one line naming the file and the reason
expect_exit 2 "$FORAGE" ioc parse
expect_exit 2 "$FORAGE" ioc parse "$T/note.txt" --format nonsense
expect_exit 2 "$FORAGE" ioc parse "$T/missing.txt"
expect_grep "missing.txt: No such file" "$T/err"
expect_lines 1 "$T/err"
head -c 4096 /dev/urandom > "$T/random.bin"; printf '\0' >> "$T/random.bin"
expect_exit 2 "$FORAGE" ioc parse "$T/random.bin"
expect_grep "random.bin: binary data" "$T/err"
expect_exit 2 "$FORAGE" ioc parse "$T"
expect_grep "is a directory" "$T/err"
ln -s "$T/note.txt" "$T/link.txt"
expect_exit 2 "$FORAGE" ioc parse "$T/link.txt"
expect_grep "symbolic link" "$T/err"
expect_exit 2 "$FORAGE" --log-level chatty version

# --- keep going: the good file is still read, exit 3 (incomplete)
expect_exit 3 "$FORAGE" ioc parse --keep-going --format tsv "$T/note.txt" "$T/missing.txt"
expect_grep "^sha256	$sha$" "$T/out"

# --- tsv: sorted, unique, canonical
expect_exit 0 "$FORAGE" ioc parse --format tsv "$T/note.txt"
cp "$T/out" "$T/note.tsv"
expect_grep "^cidr	185.220.101.0/24$" "$T/note.tsv"
expect_no_grep "^ipv4	185.220.101.7$" "$T/note.tsv" "a CIDR with host bits must not also give the bare IP"
expect_grep "^url	https://evil-c2.example.com/gate.php$" "$T/note.tsv"
expect_grep "^domain	evil-c2.example.com$" "$T/note.tsv"
expect_grep "^filename	ratatosk.sh$" "$T/note.tsv"
expect_no_grep "^domain	ratatosk.sh$" "$T/note.tsv"
if sort -c "$T/note.tsv" 2>/dev/null; then ok; else fail "tsv not sorted"; fi

# --- json: document with case and TLP, every indicator with source line
expect_exit 0 "$FORAGE" ioc parse "$T/note.txt"
expect_grep '"case": "EGI-20261120-01"' "$T/out"
expect_grep '"tlp": "TLP:AMBER"' "$T/out"
expect_grep '"line": 4' "$T/out"
# its own JSON is accepted back as input and gives the same set
"$FORAGE" ioc parse "$T/note.txt" -o "$T/iocs.json" 2>/dev/null
expect_exit 0 "$FORAGE" ioc parse --format tsv "$T/iocs.json"
if cmp -s "$T/out" "$T/note.tsv"; then ok; else fail "JSON round trip changed the set"; fi
# stdin
expect_exit 0 "$FORAGE" ioc parse --format tsv - < "$T/note.txt"
if cmp -s "$T/out" "$T/note.tsv"; then ok; else fail "stdin gives a different set"; fi

# --- bpf
expect_exit 0 "$FORAGE" ioc parse --format bpf "$T/note.txt"
expect_grep "net 185.220.101.0/24" "$T/out"

# --- yara: the real yara CLI compiles the rule and matches the dropper by hash
expect_exit 0 "$FORAGE" ioc parse --format yara "$T/note.txt" -o "$T/iocs.yar"
expect_exit 0 yara -d filename=dropper.bin -d filepath="$T/dropper.bin" "$T/iocs.yar" "$T/dropper.bin"
expect_grep "forage_ioc_hashes" "$T/out"
printf 'other\n' > "$T/other.bin"
expect_exit 0 yara -d filename=x -d filepath=x "$T/iocs.yar" "$T/other.bin"
expect_no_grep "forage_ioc_hashes" "$T/out"
expect_exit 0 yara -d filename=ratatosk.sh -d filepath=/tmp/ratatosk.sh "$T/iocs.yar" "$T/other.bin"
expect_grep "forage_ioc_filenames" "$T/out"

# --- misp: a MISP event, read back to the same set
expect_exit 0 "$FORAGE" ioc parse --format misp "$T/note.txt" -o "$T/event.json"
expect_grep '"name": "tlp:amber"' "$T/event.json"
expect_exit 0 "$FORAGE" ioc parse --format tsv "$T/event.json"
if cmp -s "$T/out" "$T/note.tsv"; then ok; else fail "MISP round trip changed the set"; diff "$T/out" "$T/note.tsv" >&2 || true; fi

# --- version
expect_exit 0 "$FORAGE" --version
for lib in yara libpcap libmagic openssl spdlog; do expect_grep "$lib" "$T/out"; done
expect_exit 0 "$FORAGE" version --json
expect_grep '"commit":' "$T/out"

# --- a full disk on stdout: exit 2 and one line naming the output, never a truncated result
if [ -w /dev/full ]; then
  for fmt in json tsv misp; do
    got=0
    "$FORAGE" ioc parse --format $fmt "$T/note.txt" >/dev/full 2>"$T/err" || got=$?
    if [ "$got" -eq 2 ]; then ok; else fail "ioc parse --format $fmt > /dev/full: exit $got, expected 2"; fi
    expect_lines 1 "$T/err"
    expect_grep "^forage: <stdout>: No space left on device$" "$T/err"
  done
else
  echo "note: no writable /dev/full: the full-disk checks are skipped"
fi

finish
