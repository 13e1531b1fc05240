"""Benchmark: offline geo-IP lookups with geoip2fast's bundled data (``deskguard.detection.geo``).

Prints ONE JSON line on stdout:

- ``import_ms``: importing ``deskguard.detection.geo`` (geoip2fast itself is imported at the first
  lookup, not here);
- ``load_s``: the one-time load of ``geoip2fast-asn-ipv6.dat.gz`` (first lookup of the process);
- ``cold_per_s``: lookups of distinct public addresses (80 % IPv4, 20 % IPv6, seeded), each a
  cache miss: parse, private check, geoip2fast, AS-prefix check, networks.yml classification;
- ``cached_per_s``: lookups of a working set of ``WORKING_SET`` addresses, all already cached;
- ``enrich_per_s``: ``enrich`` on normalised sign-in events whose addresses are cached (the
  pipeline's steady-state cost per event).

Run: ``.venv/bin/python bench/geo.py [--quick]`` (``--quick``: fewer lookups).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKING_SET = 1_000


def _addresses(rng: random.Random, count: int) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        if rng.random() < 0.8:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(
                rng.getrandbits(32)
            )
        else:
            address = ipaddress.IPv6Address((0x2000 << 112) | rng.getrandbits(116))
        if address.is_global:
            out.append(str(address))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    cold_n = 5_000 if args.quick else 100_000
    cached_n = 50_000 if args.quick else 1_000_000

    started = time.perf_counter()
    from deskguard.detection import geo
    from deskguard.detection.event import Event
    from deskguard.detection.networks import load_networks

    import_ms = (time.perf_counter() - started) * 1000
    networks = load_networks(ROOT / "content" / "networks" / "networks.yml")
    started = time.perf_counter()
    geo.bundled_database()
    load_s = time.perf_counter() - started

    rng = random.Random(5)
    resolver = geo.BundledResolver(networks, cache_size=cold_n + WORKING_SET)
    cold = _addresses(rng, cold_n)
    started = time.perf_counter()
    for ip in cold:
        resolver.lookup(ip)
    cold_per_s = cold_n / (time.perf_counter() - started)

    working = cold[:WORKING_SET]
    started = time.perf_counter()
    for index in range(cached_n):
        resolver.lookup(working[index % WORKING_SET])
    cached_per_s = cached_n / (time.perf_counter() - started)

    events = [
        Event(
            id=str(i),
            time=0.0,
            source="okta",
            product="okta",
            service="okta",
            class_name="authentication",
            activity="sign_in",
            type="user.session.start",
            raw={},
            src_ip=working[i % WORKING_SET],
        )
        for i in range(cached_n // 10)
    ]
    started = time.perf_counter()
    geo.enrich(events, resolver)
    enrich_per_s = len(events) / (time.perf_counter() - started)

    found = sum(1 for ip in cold if (n := resolver.lookup(ip)) is not None and n.country)
    print(f"{cold_n} cold, {cached_n} cached lookups; {found} with a country", file=sys.stderr)
    hosting = sum(1 for ip in cold if (n := resolver.lookup(ip)) is not None and n.hosting)
    return {
        "bench": "geo",
        "import_ms": round(import_ms, 1),
        "load_s": round(load_s, 3),
        "cold_per_s": round(cold_per_s),
        "cached_per_s": round(cached_per_s),
        "enrich_per_s": round(enrich_per_s),
        "with_country": round(found / cold_n, 3),
        "hosting_share": round(hosting / cold_n, 3),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
