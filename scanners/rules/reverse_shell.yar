// Reverse shells: scripts and command lines that connect a shell to a remote host.
rule forage_reverse_shell_bash {
  meta:
    description = "bash/sh reverse shell through /dev/tcp or /dev/udp"
    author = "forage"
    score = 80
  strings:
    $r1 = /(ba|z|k|)sh -i\s*[>&]+\s*\/dev\/(tcp|udp)\/[A-Za-z0-9.:-]+\/[0-9]{1,5}/
    $r2 = /exec [0-9]+<>\/dev\/tcp\/[A-Za-z0-9.:-]+\/[0-9]{1,5}/
    $r3 = /0<&[0-9]+;\s*exec [0-9]+<>\/dev\/tcp\//
  condition:
    any of them
}

rule forage_reverse_shell_netcat {
  meta:
    description = "netcat/ncat/socat reverse shell"
    author = "forage"
    score = 75
  strings:
    $n1 = /\bn(c|cat|etcat)(\.traditional|\.openbsd)? [^\n]{0,40}-[a-z]*e ?\/bin\/(ba)?sh/
    $n2 = /mkfifo [^\n;|]{1,80};[^\n]{0,40}\bnc(at)? [^\n]{0,80}\/bin\/(ba)?sh/
    $n3 = /\/bin\/(ba)?sh -i[^\n]{0,10}\|[^\n]{0,10}\bnc(at)? [0-9a-zA-Z.-]+ [0-9]{1,5}/
    $s1 = /socat [^\n]{0,40}exec:['"]?(\/bin\/)?(ba)?sh[^\n]{0,40}tcp(4|6)?:[A-Za-z0-9.-]+:[0-9]{1,5}/ nocase
  condition:
    any of them
}

rule forage_reverse_shell_script {
  meta:
    description = "Python/Perl/PHP/Ruby reverse shell one-liner"
    author = "forage"
    score = 75
  strings:
    $py1 = "socket.socket(" ascii
    $py2 = /os\.dup2\([a-z_.]+\.fileno\(\),\s*[012]\)/ ascii
    $py3 = /(subprocess\.call|pty\.spawn|os\.system)\(\s*\[?["']\/bin\/(ba)?sh/ ascii
    $pl1 = /socket\(\s*S\s*,\s*PF_INET/ ascii
    $pl2 = /open\(\s*STD(IN|OUT|ERR)\s*,\s*["']>&S/ ascii
    $pl3 = /exec\(\s*["']\/bin\/(ba)?sh/ ascii
    $php1 = /fsockopen\(\s*["'][0-9A-Za-z.-]+["']\s*,\s*[0-9]{1,5}\s*\)/ ascii
    $php2 = /(exec|shell_exec|system|passthru|proc_open)\(\s*["']\/bin\/(ba)?sh -i\s*<&3/ ascii
    $rb1 = /TCPSocket\.(new|open)\(\s*["'][0-9A-Za-z.-]+["']\s*,\s*[0-9]{1,5}\s*\)/ ascii
    $rb2 = /\.to_i;\s*exec sprintf\(\s*["']\/bin\/(ba)?sh -i/ ascii
  condition:
    filesize < 5MB and (($py1 and $py2 and $py3) or ($pl1 and $pl2 and $pl3) or
                        ($php1 and $php2) or ($rb1 and $rb2))
}
