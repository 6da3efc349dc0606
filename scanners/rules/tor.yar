// Tor clients and relays: unexpected on a batch worker; a common way to reach hidden C2.
rule forage_tor_binary {
  meta:
    description = "Tor client or relay executable"
    author = "forage"
    score = 60
  strings:
    $a1 = "Tor is running on %s"
    $a2 = "Bootstrapped %d%%"
    $a3 = "tor_main"
    $a4 = "Your Tor server's identity key fingerprint"
    $a5 = "HiddenServiceDir"
    $a6 = "ControlPort"
    $a7 = "or_connection_new"
    $a8 = "Tor %s running on %s with Libevent"
  condition:
    (uint32(0) == 0x464c457f or uint16(0) == 0x5a4d) and 3 of them
}

rule forage_tor_config {
  meta:
    description = "torrc: Tor configuration with a hidden service or a SOCKS listener"
    author = "forage"
    score = 50
  strings:
    $h1 = /(^|\n)[ \t]*HiddenServiceDir[ \t]+\S/
    $h2 = /(^|\n)[ \t]*HiddenServicePort[ \t]+[0-9]/
    $s1 = /(^|\n)[ \t]*SocksPort[ \t]+[0-9]/
    $s2 = /(^|\n)[ \t]*(DataDirectory|ExitPolicy|ORPort|UseBridges)[ \t]+\S/
  condition:
    filesize < 256KB and uint32(0) != 0x464c457f and (all of ($h*) or ($s1 and $s2))
}
