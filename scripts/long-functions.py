#!/usr/bin/env python3
"""Lists product functions longer than a limit (default 100 lines) and fails when there is one.

The product code is clang-formatted (.clang-format): a function definition starts on a line at
namespace level (no indent) or inside a class (two spaces), ends with "{", and its body closes
with "}" at the same indent. Lambdas and nested blocks are inside those and counted with them.
Usage: scripts/long-functions.py [--max N] [DIR...]   (default dirs: the product folders)
"""
import os
import re
import sys

PRODUCT = ["common", "ioc", "host", "scanners", "collector", "sweep", "bundle", "cli"]
KEYWORDS = ("namespace", "struct", "class", "enum", "union", "extern", "if", "for", "while",
            "switch", "do", "else", "return", "try", "catch", "case", "default", "template")


def signature_start(lines, i):
    """The first line of the statement that ends on line i."""
    first = i
    while first > 0:
        prev = lines[first - 1].rstrip()
        if not prev.strip() or prev.endswith((";", "{", "}")) or prev.lstrip().startswith(("//", "#")):
            break
        if re.match(r"^\s*(public|private|protected):$", prev):
            break
        first -= 1
    return first


def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.endswith("{"):
            i += 1
            continue
        first = signature_start(lines, i)
        head = lines[first]
        indent = head[: len(head) - len(head.lstrip())]
        sig = " ".join(l.strip() for l in lines[first:i + 1])
        word = re.match(r"[A-Za-z_]+", sig)
        if (len(indent) > 2 or "(" not in sig or ")" not in sig or (word and word.group(0) in KEYWORDS)
                or sig.startswith("}") or ("=" in sig.split("(")[0])):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not re.match("^" + indent + r"\}", lines[end]):
            end += 1
        name = sig.split("(")[0].split()[-1] if sig.split("(")[0].split() else "?"
        yield first + 1, end - first + 1, name
        i = end + 1


def main():
    args = sys.argv[1:]
    limit = 100
    if args[:1] == ["--max"]:
        limit = int(args[1])
        args = args[2:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = args or [os.path.join(root, d) for d in PRODUCT if os.path.isdir(os.path.join(root, d))]
    long_ones = []
    for d in dirs:
        for base, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith((".cpp", ".h")):
                    p = os.path.join(base, f)
                    for line, n, name in functions(p):
                        if n > limit:
                            long_ones.append((n, os.path.relpath(p, root), line, name))
    for n, p, line, name in sorted(long_ones, reverse=True):
        print(f"{p}:{line}: {name}: {n} lines (limit {limit})")
    if long_ones:
        print(f"{len(long_ones)} function(s) over {limit} lines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
