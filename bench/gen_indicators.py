#!/usr/bin/env python3
"""Deterministic indicator feeds for the intel benchmarks.

usage: gen_indicators.py N OUT.csv [--seed S] [--plant FILE] [--values OUT.txt]

Writes N mixed indicators as a CSV list (value,type,tlp,confidence): 30% IPv4 addresses, 5%
IPv4 CIDR ranges, 5% IPv6 addresses, 25% domains, 15% URLs, 20% file hashes (MD5, SHA-1,
SHA-256). Values from --plant (one per line, type detected by Yagura) are included first, so
a benchmark can make sure some indicators do occur in its events. --values also writes the bare
values, one per line, for a `grep -F -f` baseline.
"""
import argparse
import random

WORDS = ["alpha", "bravo", "cloud", "delta", "echo", "files", "gamma", "host", "intra", "jade",
         "kilo", "login", "mail", "nexus", "omega", "portal", "quartz", "relay", "sync", "tango",
         "update", "vault", "web", "xray", "yield", "zulu"]
TLDS = ["com", "net", "org", "info", "biz", "xyz", "top", "ru", "cn", "io", "jp", "co.jp"]
TLP = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plant")
    parser.add_argument("--values")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = []
    if args.plant:
        with open(args.plant) as planted:
            rows += [(line.strip(), "") for line in planted if line.strip()]
    while len(rows) < args.count:
        r = rng.random()
        if r < 0.30:
            value = "%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                                     rng.randint(1, 254))
            kind = "ip-dst"
        elif r < 0.35:
            prefix = rng.choice([16, 20, 24, 24, 24, 28])
            address = rng.getrandbits(32) & ((0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF)
            first = (address >> 24) % 223 + 1
            address = (first << 24) | (address & 0xFFFFFF)
            value = "%d.%d.%d.%d/%d" % (address >> 24, (address >> 16) & 255, (address >> 8) & 255,
                                        address & 255, prefix)
            kind = "ip-dst"
        elif r < 0.40:
            value = "2001:db8:%x:%x::%x" % (rng.getrandbits(16), rng.getrandbits(16),
                                            rng.getrandbits(16))
            kind = "ip-dst"
        elif r < 0.65:
            value = "%s%d-%s.%s" % (rng.choice(WORDS), rng.randint(0, 99999), rng.choice(WORDS),
                                    rng.choice(TLDS))
            kind = "domain"
        elif r < 0.80:
            value = "http%s://%s%d.%s/%s/%s%d.php" % (
                rng.choice(["", "s"]), rng.choice(WORDS), rng.randint(0, 9999), rng.choice(TLDS),
                rng.choice(WORDS), rng.choice(WORDS), rng.randint(0, 999))
            kind = "url"
        else:
            bits = rng.choice([128, 160, 256])
            value = "%0*x" % (bits // 4, rng.getrandbits(bits))
            kind = {128: "md5", 160: "sha1", 256: "sha256"}[bits]
        rows.append((value, kind))
    with open(args.out, "w") as out:
        out.write("value,type,tlp,confidence\n")
        for value, kind in rows[:args.count]:
            out.write("%s,%s,%s,%d\n" % (value, kind, rng.choice(TLP), rng.randint(30, 100)))
    if args.values:
        with open(args.values, "w") as out:
            for value, _ in rows[:args.count]:
                out.write(value + "\n")


if __name__ == "__main__":
    main()
