#!/usr/bin/env python3
"""Writes one large EVTX file made of the intact chunks of the EVTX samples, repeated.

usage: make_large_evtx.py OUTPUT MIB SAMPLE_DIR

Each 64 KiB chunk of an EVTX file carries its own templates and strings, so chunks taken from
different files make a file that reads like one large log (as a domain controller's
Security.evtx would be, hundreds of MiB). The file header is the first sample's, with the
chunk count and its checksum set again. Only the standard library is used.
"""
import os
import struct
import sys
import zlib

HEADER_SIZE = 4096
CHUNK_SIZE = 65536


def intact_chunks(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER_SIZE or data[:8] != b"ElfFile\0":
        return
    count = struct.unpack_from("<H", data, 42)[0]
    for i in range(count):
        chunk = data[HEADER_SIZE + i * CHUNK_SIZE:HEADER_SIZE + (i + 1) * CHUNK_SIZE]
        if len(chunk) < CHUNK_SIZE or chunk[:8] != b"ElfChnk\0":
            continue
        free_offset = struct.unpack_from("<I", chunk, 48)[0]
        if not 512 <= free_offset <= CHUNK_SIZE:
            continue
        if zlib.crc32(chunk[512:free_offset]) != struct.unpack_from("<I", chunk, 52)[0]:
            continue
        header_crc = zlib.crc32(chunk[128:512], zlib.crc32(chunk[:120]))
        if header_crc != struct.unpack_from("<I", chunk, 124)[0]:
            continue
        yield chunk


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[2])
    output, mib, sample_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    samples = sorted(os.path.join(root, name) for root, _, names in os.walk(sample_dir)
                     for name in names if name.endswith(".evtx"))
    chunks = [chunk for path in samples for chunk in intact_chunks(path)]
    if not chunks:
        sys.exit("no intact EVTX chunk under " + sample_dir)
    wanted = min(65535, max(1, mib * 1024 * 1024 // CHUNK_SIZE))
    with open(samples[0], "rb") as f:
        header = bytearray(f.read(HEADER_SIZE))
    struct.pack_into("<QQ", header, 8, 0, wanted - 1)   # first and last chunk
    struct.pack_into("<H", header, 42, wanted)          # chunk count
    struct.pack_into("<I", header, 120, 0)              # flags: clean
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
    with open(output, "wb") as out:
        out.write(header)
        for i in range(wanted):
            out.write(chunks[i % len(chunks)])


if __name__ == "__main__":
    main()
