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
- OUT/tcp: the TCP segments of those files (Ethernet / 802.1Q / raw IPv4) as the `tcp`
  target's 12-byte segment script, one seed per file with TCP.
- OUT/tunnels: `tunnels` scripts (fuzz/src/stack.rs): hand-made stacks of every header
  kind, and captured frames wrapped in VXLAN, Geneve, GRE, MPLS, IPIP / 6in4 / 4in6 and
  ICMP-error stacks.
- OUT/pcapng_blocks: `pcapng_blocks` scripts (fuzz/src/blocks.rs): each seed file as
  blocks (SHB, IDB per link type, EPB per frame, options), and hand-made extreme shapes
  (many interfaces, sections, LINUX_SLL2 ifindexes, options, names, a huge comment,
  deep tunnel stacks) apart in OUT/shapes: each probes for a super-linear cost, so
  with `-timeout` one that is still slow stops a run at once (a finding, not a seed to
  fuzz from until it is fixed).
The `engine` and `pcapng_write` targets read whole capture files, like `read`: give
them OUT/read-shared.

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


def gunzipped(data):
    """The bytes of a gzip file decompressed (None when that fails), others as they are."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError):
        return None


def frames(data):
    """(link type, frame bytes) of a pcap / pcapng file, as far as it parses."""
    data = gunzipped(data)
    if data is None:
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


# ---- tcp: 12 bytes per segment (fuzz/fuzz_targets/tcp.rs) ----

def tcp_segments(link, frame):
    """(src, dst, sport, dport, flags, seq, ack, window, payload, options) of an
    Ethernet (802.1Q) or raw IPv4 TCP frame, or None."""
    o = 0
    if link == 1:
        if len(frame) < 14:
            return None
        et, o = struct.unpack(">H", frame[12:14])[0], 14
        while et in (0x8100, 0x88a8) and len(frame) >= o + 4:
            et, o = struct.unpack(">H", frame[o + 2:o + 4])[0], o + 4
        if et != 0x0800:
            return None
    elif link not in (101, 228, 12, 14):
        return None
    ip = frame[o:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack(">H", ip[2:4])[0] or len(ip)
    t = ip[ihl:]
    if len(t) < 20:
        return None
    off = (t[12] >> 4) * 4
    sport, dport, seq, ack = struct.unpack(">HHII", t[:12])
    window = struct.unpack(">H", t[14:16])[0]
    return (ip[12:16], ip[16:20], sport, dport, t[13] | (t[12] & 1) << 8, seq, ack,
            window, max(0, total - ihl - off), t[20:off])


def tcp_script(packets):
    """The `tcp` target's segments for the TCP packets of one file: direction and
    connection from the addresses and ports, seq / ack as steps (clamped to i16)."""
    conns, last, out = {}, {}, bytearray()
    for ts, p in packets:
        src, dst, sp, dp, flags, seq, ack, win, plen, opts = p
        key = (src, sp, dst, dp)
        rev = (dst, dp, src, sp)
        if rev in conns:
            conn, d = conns[rev], 1
        else:
            conn, d = conns.setdefault(key, len(conns) % 4), 0
        prev = last.get((conn, d), (seq, ack, ts))
        clamp = lambda v: max(-32768, min(32767, ((v + 2**31) % 2**32) - 2**31))
        ms = max(0, int((ts - prev[2]) * 1000))
        step = min(ms, 127) if ms < 128 else 0x80 | min(ms // 16, 127)
        o = 0
        kinds = {opts[i] for i in range(len(opts))} if opts else set()
        if 8 in kinds:
            o |= 1
        if 5 in kinds:
            o |= 2
        if 2 in kinds:
            o |= 4
        out += bytes([d | conn << 1, flags & 0xff]) + struct.pack(
            ">hh", clamp(seq - prev[0]), clamp(ack - prev[1]))
        out += bytes([min(plen // 4, 255), min(win >> 8, 255), step, o, 1, 0])
        last[(conn, d)] = (seq, ack, ts)
    return bytes(out)


def timed_frames(data):
    """(seconds, link type, frame) of a pcap file (pcapng: time 0)."""
    data = gunzipped(data)
    if data is None:
        return
    e = PCAP_MAGICS.get(data[:4])
    if not e:
        for link, frame in frames(data):
            yield 0.0, link, frame
        return
    if len(data) < 24:
        return
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    o = 24
    while o + 16 <= len(data):
        sec, frac, incl = struct.unpack(e + "III", data[o:o + 12])
        o += 16
        if incl > 262144:
            return
        yield sec + frac / (1e9 if nano else 1e6), link, data[o:o + incl]
        o += incl


def tcp_seeds(sources, out):
    os.makedirs(out, exist_ok=True)
    n = 0
    for path in sources:
        with open(path, "rb") as f:
            data = f.read()
        packets = [(ts, p) for ts, link, frame in timed_frames(data)
                   for p in [tcp_segments(link, frame)] if p]
        script = tcp_script(packets[:1024])
        if script:
            with open(os.path.join(out, hashlib.sha1(script).hexdigest()), "wb") as f:
                f.write(script)
            n += 1
    print(f"{n} TCP conversations -> {out}")


# ---- tunnels: header-stack scripts (fuzz/src/stack.rs) ----

def hdr(kind, params=b""):
    return bytes([kind, 0xFF]) + params          # 0xff: no fault


def eth(mac=1):
    return hdr(0, bytes([mac]))


def vlan(tci=100, qinq=False):
    return hdr(2 if qinq else 1, struct.pack("<H", tci))


def mpls(label=16):
    return hdr(3, struct.pack("<I", label << 12 | 64))


def ipv4(flags=1, options=b"", n_options=0, ident=1):
    # options: (menu byte, params) pairs already encoded
    return hdr(4, bytes([64]) + struct.pack("<H", ident) + bytes([flags])
               + (struct.pack("<H", 0x10) if flags & 4 else b"") + bytes([n_options]) + options)


def ipv6(exts=()):
    # exts: encoded extension-header entries (menu byte first)
    return hdr(5, bytes([64]) + struct.pack("<I", 0x12345) + bytes([len(exts)]) + b"".join(exts))


def udp(sport=49152, dport=7, zero=0):
    return hdr(6, struct.pack("<HHB", sport, dport, zero))


def vxlan(vni=42):
    return hdr(7, struct.pack("<IB", vni, 8))


def geneve(vni=7, options=()):
    body = struct.pack("<I", vni) + bytes([len(options)])
    for cls, typ, data in options:
        body += struct.pack("<HBB", cls, typ, len(data) // 4) + data
    return hdr(8, body)


def gre(flags=0, key=0x1234, seq=1):
    return hdr(9, bytes([flags]) + struct.pack("<II", key, seq))


def tcp(flags=0x18, options=b"", n_options=0):
    return hdr(10, struct.pack("<HHIIHH", 40000, 80, 1000, 2000, flags, 512) + bytes([n_options]) + options)


def icmp(t=0, code=0, v6=False):
    return hdr(12 if v6 else 11, bytes([t, code]) + struct.pack("<I", 0x00010001))


def payload(data, named=0):
    return hdr(13, bytes([named]) + struct.pack("<H", len(data)) + data)


def stack(*headers, link=0):
    return bytes([link]) + b"".join(headers)


HBH, ROUTING, FRAGMENT, DEST, AH = (bytes([0, 1]), bytes([1, 0, 1, 2]), bytes([2, 0]) + b"\0\0\0\1",
                                    bytes([3, 0x82]), bytes([4, 1]))
TCP_OPTS = (bytes([1]) + struct.pack("<BH", 1, 1460) + bytes([2, 7, 3]) + bytes([4]) + struct.pack("<II", 5, 6)
            + bytes([5, 2]) + struct.pack("<IHIH", 3000, 100, 5000, 100), 6)
HAND_STACKS = [
    stack(eth(), ipv4(), udp(), vxlan(), eth(), ipv4(), tcp(0x12, *TCP_OPTS), payload(b"x" * 40)),
    stack(eth(), vlan(), vlan(200, True), ipv6([HBH, DEST, ROUTING, AH, FRAGMENT]), udp(), geneve(9, [(0x0103, 0x80, b"abcdefgh")]),
          ipv4(), udp(5353, 5353), payload(b"\0" * 12)),
    stack(eth(), mpls(), mpls(17), ipv4(), gre(0b111), eth(), ipv6(), icmp(128, v6=True), payload(b"ping")),
    stack(ipv4(options=bytes([4, 2, 0, 0, 1, 1]), n_options=3), tcp(), payload(b"GET / HTTP/1.0\r\n\r\n"), link=0),
    stack(ipv4(), ipv6([ROUTING]), ipv4(flags=8), udp(zero=1), payload(b"6in4 4in6"), link=1),
    stack(ipv6(), ipv6([DEST]), tcp(0x02, *TCP_OPTS), link=2),
    stack(eth(), ipv4(), icmp(3, 3), ipv4(), udp(), payload(b"quoted")),
    stack(eth(), ipv6(), icmp(1, 4, v6=True), ipv6(), tcp(), payload(b"quoted")),
    stack(eth(), ipv4(), udp(dport=4754), gre(), ipv4(), udp(dport=6635), mpls(), ipv6(), udp(), payload(b"")),
    stack(eth(), ipv4(), gre(0b1010), payload(b"\x00\x21\x45", 0)),
    stack(ipv4(), udp(), vxlan(), eth(), vlan(), mpls(), ipv4(), tcp(), link=3),
    stack(eth(), ipv4(flags=2), udp(), payload(b"first fragment")),
    stack(eth(), ipv4(flags=4 | 1), udp(), payload(b"later fragment")),
    stack(*([eth()] + [ipv4()] * 70 + [udp(), payload(b"deep")])),
    stack(eth(), ipv6([HBH, DEST] * 31 + [FRAGMENT]), udp(), payload(b"many extension headers")),
    stack(*([eth()] + [vlan(), vlan(1, True)] * 30 + [ipv4(), tcp()])),
    stack(*([eth()] + [ipv4(), udp(), vxlan(), eth()] * 12 + [ipv4(), tcp()])),
]


def tunnel_seeds(sources, out):
    """Hand-made stacks, and frames of the sources wrapped in tunnels."""
    os.makedirs(out, exist_ok=True)
    seeds = list(HAND_STACKS)
    for path in sources:
        with open(path, "rb") as f:
            data = f.read()
        taken = 0
        for link, frame in frames(data):
            frame = frame[:1500]
            if link == 1:
                wraps = [
                    stack(eth(), ipv4(), udp(), vxlan(), payload(frame, 1)),
                    stack(eth(), ipv6([HBH]), udp(), geneve(3, [(0x0104, 1, b"\1\2\3\4")]), payload(frame, 1)),
                    stack(eth(), vlan(), ipv4(), gre(0b110), payload(frame, 1)),
                    stack(eth(), mpls(), ipv6(), ipv4(), udp(), vxlan(), payload(frame, 1)),
                ]
            elif link in (101, 228, 229, 12, 14) and frame[:1] and frame[0] >> 4 in (4, 6):
                named = 2 if frame[0] >> 4 == 4 else 3
                wraps = [
                    stack(ipv6([DEST]), payload(frame, named)),
                    stack(ipv4(), payload(frame, named), link=1),
                    stack(eth(), ipv4(), icmp(11), payload(frame[:548], named)),
                    stack(eth(), ipv4(), gre(0b001), payload(frame, named)),
                ]
            else:
                continue
            seeds.append(wraps[taken % len(wraps)])
            taken += 1
            if taken >= 8:
                break
    for s in seeds:
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(seeds)} header stacks -> {out}")


# ---- pcapng_blocks: block scripts (fuzz/src/blocks.rs) ----

COMMON = [1, 2988, 2989, 19372, 19373]
MENUS = {"shb": [2, 3, 4], "idb": list(range(2, 18)), "epb": list(range(2, 8)), "isb": list(range(2, 9)),
         "nrb": [2, 3, 4], "other": []}


def opts(block="other", *entries, end=False):
    """An option list of a block: (option code, value byte, value bytes) entries; each
    code becomes its selector in the block's menu (fuzz/src/blocks.rs)."""
    menu = MENUS[block]
    sel = lambda c: menu.index(c) if c in menu else len(menu) + COMMON.index(c)
    return bytes([len(entries) | (0x40 if end else 0)]) + b"".join(bytes([sel(c), v]) + d for c, v, d in entries)


def text(block, code, value):
    return opts(block, (code, len(value), value))


def b_shb(big=0, options=opts("shb")):
    return bytes([0, 0xFF, big]) + options


def b_idb(link, options=opts("idb")):
    sel = LINK_TYPES.index(link) if link in LINK_TYPES else 31
    tail = b"" if link in LINK_TYPES else struct.pack("<H", link)
    return bytes([1, 0xFF, sel]) + tail + bytes([1]) + options


def b_epb(iface, ts, data, options=opts("epb"), stack_script=False):
    return (bytes([2, 0xFF, iface]) + struct.pack("<Q", ts) + bytes([1 if stack_script else 0])
            + struct.pack("<H", len(data)) + data + bytes([0]) + options)


def b_repeat(count, vary=0xFF):
    return bytes([11]) + struct.pack("<HB", count, vary)


SLL2 = struct.pack(">HHIHBB8s", 0x0800, 0, 1, 1, 0, 6, b"\2\0\0\0\0\1\0\0") + bytes.fromhex(
    "4500001c0001000040117cce7f0000017f000001c0000007000800000000")
HUGE = 0x80          # an option value byte asking for a huge value (u16 length follows)
SHAPES = [
    # 65,536 interfaces.
    bytes([0]) + b_idb(1) + b_repeat(65535) + b_epb(0, 1, b"\0" * 14),
    # Thousands of sections (20,001, the last 20,000 big-endian and empty).
    bytes([1]) + b_shb() + b_idb(101) + b_epb(0, 1, bytes.fromhex("450000140001000040007cd7c0000201c0000202"))
    + b_shb(1) + b_repeat(20000),
    # 15,001 LINUX_SLL2 ifindexes (body word 6 is the ifindex: +1 per packet; 50,000 take
    # 21 s under AddressSanitizer, linear, past -timeout=10).
    bytes([0]) + b_idb(276) + b_epb(0, 1 << 32, SLL2) + b_repeat(15000, 6),
    # Many interface ids in EPBs beyond the IDBs (body word 0).
    bytes([0]) + b_idb(1) + b_epb(0, 5, b"\0" * 14) + b_repeat(50000, 0),
    # Many options: 5,000 comments on one packet.
    bytes([0]) + b_idb(1) + bytes([2, 0xFF, 0]) + struct.pack("<Q", 1) + bytes([0, 0, 0, 0, 0x80])
    + struct.pack("<H", 5000) + (bytes([6, 8]) + b"comment!") * 5000,
    # A huge comment (65,535 bytes) on the section, the interface and 41 packets.
    bytes([1]) + bytes([0, 0xFF, 0, 1, 3, HUGE]) + struct.pack("<H", 65535)
    + b_idb(1, bytes([1, 16, HUGE | 1]) + struct.pack("<H", 65535))
    + b_epb(0, 1, b"\0" * 60, bytes([1, 6, HUGE | 2]) + struct.pack("<H", 65535)) + b_repeat(40, 2),
    # Many names: an NRB of 20,000 generated names (one record as the template), 31 times.
    bytes([0]) + bytes([5, 0xFF, 0x80]) + struct.pack("<H", 20000) + bytes([0]) + struct.pack("<H", 1) + bytes([0x85])
    + opts("nrb") + b_repeat(30, 0xFF),
    # Power-of-2 time resolution, offset, names, hash, drops, statistics, secrets,
    # custom, journal, unknown, simple and obsolete packet blocks.
    bytes([0]) + b_idb(1, opts("idb", (9, 4, b""), (14, 0, struct.pack("<Q", 10**9)), (2, 4, b"eth0"), (12, 5, b"Linux")))
    + b_epb(0, 123456789, b"\0" * 14, opts("epb", (2, 0, b"\0\0\0\1"), (3, 4, b"\2hash"), (4, 0, struct.pack("<Q", 7)),
                                           (1, 4, b"note")))
    + bytes([6, 0xFF, 0]) + struct.pack("<Q", 99) + opts("isb", (2, 0, struct.pack("<Q", 1)), (4, 0, struct.pack("<Q", 5)))
    + bytes([7, 0xFF, 0]) + struct.pack("<H", 8) + b"secrets!" + opts()
    + bytes([8, 0xFF, 0]) + struct.pack("<I", 32473) + struct.pack("<H", 4) + b"cust"
    + bytes([9, 0xFF]) + struct.pack("<H", 5) + b"hello"
    + bytes([10, 0xFF]) + struct.pack("<I", 0x7777) + struct.pack("<H", 4) + b"what"
    + bytes([3, 0xFF, 0]) + struct.pack("<H", 14) + b"\0" * 14
    + bytes([4, 0xFF, 0]) + struct.pack("<HQ", 3, 5) + bytes([0]) + struct.pack("<H", 14) + b"\0" * 14 + bytes([0])
    + opts("epb"),
    # Deep tunnel stacks and many IPv6 extension headers as packet data.
    bytes([0]) + b_idb(1) + b_epb(0, 1, HAND_STACKS[13], stack_script=True)
    + b_epb(0, 2, HAND_STACKS[14], stack_script=True) + b_epb(0, 3, HAND_STACKS[16], stack_script=True),
]


def block_seeds(sources, out, shapes_out):
    os.makedirs(shapes_out, exist_ok=True)
    for s in SHAPES:
        with open(os.path.join(shapes_out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(SHAPES)} extreme shapes -> {shapes_out}")
    os.makedirs(out, exist_ok=True)
    seeds = []
    for path in sources:
        with open(path, "rb") as f:
            data = f.read()
        links, body = [], b""
        for i, (ts, link, frame) in enumerate(timed_frames(data)):
            if i >= 24:
                break
            if link not in links:
                links.append(link)
                name = os.path.basename(path)[:40].encode()
                body += b_idb(link, opts("idb", (2, len(name), name), (9, 1, b"")))
            note = text("epb", 1, b"frame!") if i % 5 == 0 else opts("epb")
            body += b_epb(links.index(link) % 8, int(ts * 1e9) % 2**64, frame[:4096], note)
        if body:
            seeds.append(bytes([1]) + b_shb(len(seeds) % 2, opts("shb", (3, 5, b"Linux"), (4, 6, b"netcap"))) + body)
    for s in seeds:
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(seeds)} block scripts -> {out}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/netcap-seeds"
    shared = os.path.join(out, "read-shared")
    shared_seeds(shared)
    sources = sorted(glob.glob(os.path.join(ROOT, "fixtures/constructed/*.pcap*"))
                     + glob.glob(os.path.join(ROOT, "fixtures/lab/flannel/*.pcap"))
                     + glob.glob(os.path.join(shared, "*")))
    frame_seeds(sources, os.path.join(out, "decode"), os.path.join(out, "checksum"))
    tcp_seeds(sources, os.path.join(out, "tcp"))
    tunnel_seeds(sources, os.path.join(out, "tunnels"))
    block_seeds(sources, os.path.join(out, "pcapng_blocks"), os.path.join(out, "shapes"))


if __name__ == "__main__":
    main()
