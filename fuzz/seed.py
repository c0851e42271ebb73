#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, outside the repository (default /tmp/netcap-seeds).

    python3 fuzz/seed.py [OUT_DIR]        # from the repository root

- OUT/read-shared: ~300 files of at most 64 KiB from ../shared/corpus (up to 4 per
  format / link type of MANIFEST.tsv, the rest spread evenly). The public corpus must
  not be copied into the repository, hence a folder outside it.
- OUT/decode: frames cut out of fixtures/constructed, fixtures/lab/flannel and those
  files (up to 20 per file), for the link types the `decode` target selects, each
  prefixed with its selector byte and a 0 byte.
- OUT/checksum: the first 100 decode seeds.

Skips the public corpus cleanly where ../shared/corpus is absent.
"""

import collections
import csv
import glob
import gzip
import hashlib
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "corpus")
# The `decode` target's selector: index = first byte modulo 32.
LINK_TYPES = [
    0, 1, 12, 14, 101, 108, 113, 228, 229, 276,
    9, 50, 51, 104, 105, 106, 107, 127, 129, 149, 178, 192, 204, 205, 226, 239, 242, 258,
]
PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">",
}


def shared_seeds(out):
    manifest = os.path.join(SHARED, "MANIFEST.tsv")
    if not os.path.exists(manifest):
        print("no ../shared/corpus: public-corpus seeds skipped")
        return
    with open(manifest, newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t")
                if os.path.exists(os.path.join(SHARED, r["corpus_file"]))
                and int(r["bytes"] or 0) <= 65536]
    rows.sort(key=lambda r: r["corpus_file"])
    by = collections.defaultdict(list)
    for r in rows:
        by[r["link_type_or_format"]].append(r)
    pick = [r for k in sorted(by) for r in by[k][:4]]
    chosen = {r["corpus_file"] for r in pick}
    rest = [r for r in rows if r["corpus_file"] not in chosen]
    want = max(0, 300 - len(pick))
    if want:
        pick += rest[::max(1, len(rest) // want)][:want]
    os.makedirs(out, exist_ok=True)
    for i, r in enumerate(pick):
        name = os.path.basename(r["corpus_file"])[:60]
        shutil.copy(os.path.join(SHARED, r["corpus_file"]), os.path.join(out, f"{i:03d}-{name}"))
    print(f"{len(pick)} public-corpus files -> {out}")


def frames(data):
    """(link type, frame bytes) of a pcap / pcapng file, as far as it parses."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return
    e = PCAP_MAGICS.get(data[:4])
    if e:
        if len(data) < 24:
            return
        link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        o = 24
        while o + 16 <= len(data):
            incl = struct.unpack(e + "I", data[o + 8:o + 12])[0]
            o += 16
            if incl > 262144:
                return
            yield link, data[o:o + incl]
            o += incl
    elif data[:4] == b"\x0a\x0d\x0d\x0a":
        o, e, links = 0, "<", []
        while o + 12 <= len(data):
            if data[o:o + 4] == b"\x0a\x0d\x0d\x0a":
                e = "<" if data[o + 8:o + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                links = []
            block_type, length = struct.unpack(e + "II", data[o:o + 8])
            if length < 12:
                return
            block = data[o:o + length]
            if block_type == 1 and len(block) >= 10:
                links.append(struct.unpack(e + "H", block[8:10])[0])
            elif block_type == 6 and len(block) >= 28:
                iface, _, _, cap, _ = struct.unpack(e + "IIIII", block[8:28])
                if iface < len(links):
                    yield links[iface], block[28:28 + cap]
            o += length


def frame_seeds(sources, out, checksum_out):
    os.makedirs(out, exist_ok=True)
    os.makedirs(checksum_out, exist_ok=True)
    seen = []
    for path in sources:
        with open(path, "rb") as f:
            data = f.read()
        taken = 0
        for link, frame in frames(data):
            if link not in LINK_TYPES:
                continue
            seed = bytes([LINK_TYPES.index(link), 0]) + frame
            name = hashlib.sha1(seed).hexdigest()
            if name in seen:
                continue
            seen.append(name)
            with open(os.path.join(out, name), "wb") as f:
                f.write(seed)
            taken += 1
            if taken >= 20:
                break
    for name in seen[:100]:
        shutil.copy(os.path.join(out, name), os.path.join(checksum_out, name))
    print(f"{len(seen)} frames -> {out}, {min(100, len(seen))} -> {checksum_out}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/netcap-seeds"
    shared = os.path.join(out, "read-shared")
    shared_seeds(shared)
    sources = sorted(glob.glob(os.path.join(ROOT, "fixtures/constructed/*.pcap*"))
                     + glob.glob(os.path.join(ROOT, "fixtures/lab/flannel/*.pcap"))
                     + glob.glob(os.path.join(shared, "*")))
    frame_seeds(sources, os.path.join(out, "decode"), os.path.join(out, "checksum"))


if __name__ == "__main__":
    main()
