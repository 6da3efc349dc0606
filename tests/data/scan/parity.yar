// Parity rule set (ours): `forage scan files` must report exactly the (rule, file) pairs that
// `yara -r` reports with these rules (tests/integration/test_scan_parity.sh). It exercises text,
// wide/nocase, hex with jumps and alternatives, regular expressions, counts and offsets, private
// rules and the pe, elf, math and hash modules.
import "pe"
import "elf"
import "math"
import "hash"

rule parity_mz_header { condition: uint16(0) == 0x5a4d }

rule parity_pe_many_sections { condition: pe.is_pe and pe.number_of_sections >= 3 }

rule parity_pe_imports_kernel32 {
  condition: pe.imports(/kernel32\.dll/i, /.*/)
}

rule parity_pe_upx_sections {
  strings:
    $u0 = "UPX0"
    $u1 = "UPX1"
  condition:
    pe.is_pe and any of them
}

rule parity_pe_dll { condition: pe.is_pe and pe.characteristics & pe.DLL }

rule parity_high_entropy { condition: filesize > 1KB and math.entropy(0, filesize) > 7.5 }

rule parity_low_entropy_head { condition: filesize > 512 and math.entropy(0, 512) < 2.0 }

rule parity_elf_any { condition: elf.type == elf.ET_EXEC or elf.type == elf.ET_DYN or elf.type == elf.ET_REL }

rule parity_archive_magic {
  strings:
    $zip = { 50 4B 03 04 }
    $rar = "Rar!"
    $7z = { 37 7A BC AF 27 1C }
    $gz = { 1F 8B 08 }
    $cab = "MSCF"
  condition:
    $zip at 0 or $rar at 0 or $7z at 0 or $gz at 0 or $cab at 0
}

rule parity_clamav_text {
  strings:
    $a = "clamav" nocase ascii wide
    $b = "ClamAV-Test" nocase
  condition:
    any of them
}

rule parity_regex_email {
  strings:
    $r = /[a-z0-9._%+-]{2,40}@[a-z0-9-]{2,40}\.[a-z]{2,6}/ nocase
  condition:
    #r >= 1
}

rule parity_hex_jump_pe_header {
  strings:
    $h = { 4D 5A [60-300] 50 45 00 00 ( 4C 01 | 64 86 ) }
  condition:
    $h at 0
}

rule parity_hex_wildcards {
  strings:
    $h = { 54 68 69 73 20 70 72 6F ?? 72 61 6D 20 6? 61 6E }  // "This program can"
  condition:
    $h in (0..1024)
}

rule parity_md5_of_mz { condition: filesize > 64 and hash.md5(0, 2) == "ac6ad5d9b99757c3a878f2d275ace198" }

rule parity_pdf {
  strings:
    $p = "%PDF-"
    $obj = /[0-9]+ 0 obj/
  condition:
    $p at 0 and #obj > 2
}

rule parity_repeated_string {
  strings:
    $d = "clam" nocase
  condition:
    #d >= 3 and for any i in (1..#d) : (@d[i] > 16)
}

rule parity_not_pe_not_empty { condition: not pe.is_pe and filesize > 0 and filesize < 100KB }

private rule parity_ole_header { condition: uint32(0) == 0xe011cfd0 and uint32(4) == 0xe11ab1a1 }

rule parity_ole_document { condition: parity_ole_header }

rule parity_size_band { condition: filesize > 10KB and filesize < 60KB }
