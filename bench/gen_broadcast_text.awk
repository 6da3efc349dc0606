# Generates broadcast-like free text with indicators (defanged and plain) among prose, until
# `bytes` bytes are written. Deterministic (fixed seed), so every run measures the same input.
BEGIN {
  srand(20261123)
  split("the suspicious job was submitted through the pilot and contacted its controller " \
        "over tor while mining with the payload described below please check your worker " \
        "nodes and report back to the security officer on duty within four hours", words, " ")
  nw = length(words)
  hex = "0123456789abcdef"
  written = 0
  while (written < bytes) {
    line = ""
    for (k = 0; k < 12; k++) line = line words[int(rand() * nw) + 1] " "
    r = int(rand() * 10)
    ip = int(rand()*223+1) "." int(rand()*256) "." int(rand()*256) "." int(rand()*254+1)
    if (r == 0) line = line "attacker ip " ip
    else if (r == 1) { gsub(/\./, "[.]", ip); line = line "c2 at " ip }
    else if (r == 2) line = line "hxxp://c2-" int(rand()*100000) "[.]example[.]net/gate.php"
    else if (r == 3) { h = ""; for (k = 0; k < 64; k++) h = h substr(hex, int(rand()*16)+1, 1); line = line "sha256 " h }
    else if (r == 4) { h = ""; for (k = 0; k < 32; k++) h = h substr(hex, int(rand()*16)+1, 1); line = line "md5 " h }
    else if (r == 5) line = line "user" int(rand()*1000) "@mail-" int(rand()*100) ".example.org"
    else if (r == 6) line = line "payload ratatosk" int(rand()*100) ".sh in /tmp/.x" int(rand()*100) "/"
    else if (r == 7) line = line "version 1." int(rand()*9) "." int(rand()*9) " at 10:3" int(rand()*9) ":00"
    print line
    written += length(line) + 1
  }
}
