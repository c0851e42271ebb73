#!/usr/bin/env python3
"""Writes the hostile-shape captures of benches/shape/run.sh (docs/performance.md, "Shape").

    gen.py SHAPE FILE [N]

SHAPE is one of:
  interfaces  a pcapng of N interfaces (default 65,536), 2 SYNs each, every SYN its own flow
  same        a pcapng of N interfaces (default 65,536), each seeing the same 3 SYNs
  sections    N pcapng sections (default 60,000), one interface and one SYN each
  sll2        a LINUX_SLL2 pcap of N frames (default 1,000,000), each on its own ifindex,
              the same 3 SYNs over and over
  flood       an Ethernet pcap of N SYNs (default 1,000,000), each its own 5-tuple
Checksums are correct. Timestamps: 1 µs apart unless said.
"""
import struct
import sys


def pad(b):
    return b + b'\0' * ((4 - len(b) % 4) % 4)


def block(kind, body):
    body = pad(body)
    n = 12 + len(body)
    return struct.pack('<II', kind, n) + body + struct.pack('<I', n)


def shb():
    return block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))


def idb(link_type=1):
    return block(1, struct.pack('<HHI', link_type, 0, 65535))


def epb(iface, ts_us, data):
    return block(6, struct.pack('<IIIII', iface, ts_us >> 32, ts_us & 0xffffffff, len(data), len(data)) + data)


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff


def syn(k):
    """An IPv4 TCP SYN from 10.x.y.z (k), port 1024 + k % 60000, to 10.255.0.1:80."""
    src = bytes([10, (k >> 16) & 255, (k >> 8) & 255, k & 255])
    dst = bytes([10, 255, 0, 1])
    tcp = struct.pack('!HHIIBBHHH', 1024 + (k % 60000), 80, k & 0xffffffff, 0, 5 << 4, 2, 65535, 0, 0)
    c = checksum(src + dst + struct.pack('!HH', 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), k & 0xffff, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    return ip + tcp


def eth(payload):
    return b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00' + payload


def pcap_header(link_type):
    return struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, link_type)


def record(i, data):
    return struct.pack('<IIII', 1_700_000_000 + i // 1_000_000, i % 1_000_000, len(data), len(data)) + data


T0 = 1_700_000_000_000_000


def main():
    shape, path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else None
    with open(path, 'wb') as out:
        if shape == 'interfaces':
            n = n or 65536
            out.write(shb())
            for _ in range(n):
                out.write(idb())
            ts = T0
            for _ in range(2):
                for k in range(n):
                    out.write(epb(k, ts, eth(syn(k))))
                    ts += 1
        elif shape == 'same':
            # Each round 2 s after the last; the interfaces 1 µs apart.
            n = n or 65536
            out.write(shb())
            for _ in range(n):
                out.write(idb())
            for r in range(3):
                for k in range(n):
                    out.write(epb(k, T0 + r * 2_000_000 + k, eth(syn(7 + r))))
        elif shape == 'sections':
            n = n or 60000
            for k in range(n):
                out.write(shb() + idb() + epb(0, T0 + k, eth(syn(k))))
        elif shape == 'sll2':
            n = n or 1_000_000
            out.write(pcap_header(276))
            for k in range(n):
                sll2 = struct.pack('!HHIHBB8s', 0x0800, 0, k + 1, 1, 0, 6, b'\x02\0\0\0\0\x01\0\0')
                out.write(record(k, sll2 + syn(k % 3)))
        elif shape == 'flood':
            n = n or 1_000_000
            out.write(pcap_header(1))
            for k in range(n):
                out.write(record(k, eth(syn(k))))
        else:
            sys.exit(f'gen.py: no shape {shape}')


if __name__ == '__main__':
    main()
