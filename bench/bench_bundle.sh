#!/usr/bin/env bash
# Bundling throughput: `forage bundle create` (hashing, pax, CMS signature, fsync) against what an
# admin would type instead, `tar -cf` followed by `sha256sum` over the same files, side by side on
# the same 1 GiB of generated files (page cache warm for both). Issue 3 targets: ratio <= 1.0,
# forage peak RSS < 100 MiB. SHA-256 is the limit: `openssl speed -evp sha256` is printed for scale.
. "$(dirname "$0")/lib.sh"

SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-64}
RUNS=${RUNS:-3}
apt_need time openssl tar coreutils
TIME=/usr/bin/time

data="$OUT/bundle-data-${SIZE_MB}m"
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"; mkdir -p "$data"
  per=$((SIZE_MB / FILES))
  for i in $(seq -w 1 "$FILES"); do
    head -c $((per * 1048576)) /dev/urandom > "$data/file-$i.bin"
  done
  touch "$data/.complete"
fi
bytes=$(du -sb --exclude=.complete "$data" | cut -f1)
cat "$data"/*.bin > /dev/null  # warm the page cache for both sides

pki="$OUT/bundle-pki"
if [ ! -s "$pki/host.pem" ]; then
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/host.key" -out "$pki/host.pem" -days 365 \
    -subj "/DC=org/DC=bench/CN=bench.host" >/dev/null 2>&1
fi

work="$OUT/bundle-work"
rm -rf "$work"; mkdir -p "$work"
run_forage() {
  rm -f "$work/b.tar"
  "$FORAGE" --log-level warn bundle create "$data" --out "$work/b.tar" \
    --sign-cert "$pki/host.pem" --sign-key "$pki/host.key"
}
run_pair() {
  rm -f "$work/t.tar"
  tar -cf "$work/t.tar" -C "$data" . && (cd "$data" && sha256sum ./*.bin > "$work/t.sha256")
}

# Same work into a pipe, without the disk: the CPU side (reading, hashing, tar framing). GNU tar
# skips reading file data when its output is /dev/null, hence the `| cat`.
run_forage_pipe() {
  "$FORAGE" --log-level warn bundle create "$data" --out - --sign-cert "$pki/host.pem" \
    --sign-key "$pki/host.key" | cat >/dev/null
}
run_pair_pipe() {
  tar -cf - -C "$data" . | cat >/dev/null && (cd "$data" && sha256sum ./*.bin >/dev/null)
}

t_forage=$(best_of "$RUNS" run_forage)
t_pair=$(best_of "$RUNS" run_pair)
t_forage_pipe=$(best_of "$RUNS" run_forage_pipe)
t_pair_pipe=$(best_of "$RUNS" run_pair_pipe)
rm -f "$work/b.tar"
$TIME -v "$FORAGE" --log-level warn bundle create "$data" --out "$work/b.tar" \
  --sign-cert "$pki/host.pem" --sign-key "$pki/host.key" 2>"$work/time.txt"
rss_kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")
"$FORAGE" --log-level warn bundle verify "$work/b.tar" --ca-file "$pki/host.pem" >/dev/null \
  || { echo "bench: the benchmark bundle does not verify" >&2; exit 1; }
rm -f "$work/b.tar"

sha_kbs=$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | awk '/^sha256/ {print $2}' | tr -d k)
sha_mbs=$(awk -v k="$sha_kbs" 'BEGIN{printf "%.1f", k*1000/1048576}')

printf '%-44s %9s %9s\n' "bundling $((bytes / 1048576)) MiB in $FILES files" "seconds" "MiB/s"
printf '%-44s %9s %9s\n' "forage bundle create (signed, fsync)" "$t_forage" "$(mbps "$bytes" "$t_forage")"
printf '%-44s %9s %9s\n' "tar -cf + sha256sum" "$t_pair" "$(mbps "$bytes" "$t_pair")"
printf '%-44s %9s %9s\n' "forage bundle create --out - | cat" "$t_forage_pipe" "$(mbps "$bytes" "$t_forage_pipe")"
printf '%-44s %9s %9s\n' "tar -cf - | cat + sha256sum" "$t_pair_pipe" "$(mbps "$bytes" "$t_pair_pipe")"
printf '%-44s %9s %9s\n' "openssl speed -evp sha256 (1 MiB blocks)" "" "$sha_mbs"
echo "ratio forage / (tar + sha256sum): $(ratio "$t_forage" "$t_pair") to a file, $(ratio "$t_forage_pipe" "$t_pair_pipe") to a pipe (target <= 1.0)"
echo "forage peak RSS: $((rss_kib / 1024)) MiB (target < 100 MiB)"
echo "forage into a pipe runs at $(awk -v m="$(mbps "$bytes" "$t_forage_pipe")" -v s="$sha_mbs" 'BEGIN{printf "%.0f", 100*m/s}')% of openssl's single-core SHA-256 speed"
