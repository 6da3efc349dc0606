// Cryptocurrency miners (XMRig and its forks): the most common payload on compromised grid nodes.
rule forage_xmrig_miner {
  meta:
    description = "XMRig-style CPU miner executable or memory"
    author = "forage"
    score = 75
  strings:
    $p1 = "stratum+tcp://" ascii wide
    $p2 = "stratum+ssl://" ascii wide
    $a1 = "randomx" ascii nocase
    $a2 = "cryptonight" ascii nocase
    $a3 = "rx/0" ascii
    $x1 = "xmrig" ascii nocase
    $x2 = "donate-level" ascii
    $x3 = "nicehash" ascii
    $x4 = "\"max-cpu-usage\"" ascii
    $x5 = "huge pages" ascii
  condition:
    1 of ($p*) and 1 of ($a*) and 2 of ($x*)
}

rule forage_miner_config {
  meta:
    description = "Miner configuration (JSON with pools and a stratum URL)"
    author = "forage"
    score = 60
  strings:
    $pools = "\"pools\"" ascii
    $url = /"url"[ \t]*:[ \t]*"(stratum\+(tcp|ssl):\/\/)?[a-z0-9.-]+:[0-9]{2,5}"/ ascii
    $algo = /"(algo|coin)"[ \t]*:[ \t]*"(rx\/0|randomx|cn\/|cryptonight|monero|xmr)/ ascii nocase
    $user = "\"user\"" ascii
  condition:
    filesize < 1MB and $pools and $url and ($algo or $user)
}
