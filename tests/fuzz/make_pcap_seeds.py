#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_pcap: every capture `forage_pcap_gen samples` writes (one per
link type forage decodes: Ethernet with VLAN tags, Linux cooked v1/v2, raw, raw IPv4/IPv6, BSD and
OpenBSD loopback, plus fragments, truncation, nanoseconds, radiotap and a two-section pcapng),
each pcap also as a little-endian and a big-endian pcapng (one interface, enhanced packet blocks)
and one gzip-compressed. Deterministic. Usage (from a build directory):

  python3 tests/fuzz/make_pcap_seeds.py build/tests/forage_pcap_gen tests/fuzz/corpus/fuzz_pcap
"""
import gzip
import os
import struct
import subprocess
import sys
import tempfile


def read_pcap(data):
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic == 0xA1B23C4D or struct.unpack(">I", data[:4])[0] == 0xA1B23C4D
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    packets, pos = [], 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[pos:pos + 16])
        packets.append((sec, frac, orig, data[pos + 16:pos + 16 + incl]))
        pos += 16 + incl
    return linktype & 0xFFFF, snaplen, nano, packets


def block(e, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def to_pcapng(pcap, e):
    linktype, snaplen, nano, packets = read_pcap(pcap)
    out = block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = b""
    if nano:  # if_tsresol = 9
        opts = struct.pack(e + "HH", 9, 1) + b"\x09\0\0\0" + struct.pack(e + "HH", 0, 0)
    out += block(e, 1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts)
    for sec, frac, orig, payload in packets:
        ts = sec * (10**9 if nano else 10**6) + frac
        body = struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(payload), orig)
        out += block(e, 6, body + payload)
    return out


def main():
    gen, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([gen, "samples", tmp], check=True)
        for name in sorted(os.listdir(tmp)):
            data = open(os.path.join(tmp, name), "rb").read()
            open(os.path.join(out, name), "wb").write(data)
            if not name.endswith(".pcap"):
                continue
            stem = name[:-5]
            open(os.path.join(out, stem + ".le.pcapng"), "wb").write(to_pcapng(data, "<"))
            open(os.path.join(out, stem + ".be.pcapng"), "wb").write(to_pcapng(data, ">"))
            if stem == "eth":
                open(os.path.join(out, "eth.pcap.gz"), "wb").write(gzip.compress(data, mtime=0))


if __name__ == "__main__":
    main()
