#!/usr/bin/env python3
"""Generates a kmsdns estate for scale measurements: Z zones x D domains x 2 KMS hosts.

Writes, into OUT_DIR:
  kmsdns.toml      [defaults] key, one [keys.*] (file kms-update.key), [servers.lab] at
                   127.0.0.1:PORT, two [[hosts]] and Z*D [[domains]] (name, zone, server)
  with --bind:     named.conf (a primary for every zone, update-policy granting the KMS SRV
                   names to kms-update) and one zone file per zone (SOA, NS, A), for a loopback
                   BIND; the key file itself is made by `kmsdns keygen` (see bench_scale.py).

Usage: python3 scripts/gen_estate.py OUT_DIR --zones 1000 --domains 100 [--port 5300] [--bind]
Also importable: config_text(), write_bind().
"""

import argparse
import os
from pathlib import Path


def zone_name(z, zones):
    width = max(3, len(str(zones - 1)))
    return f"z{z:0{width}d}.example"


def domain_name(d, z, zones, domains):
    width = max(2, len(str(domains - 1)))
    return f"d{d:0{width}d}.{zone_name(z, zones)}"


def config_text(port, zones, domains):
    """The kmsdns config: two hosts (priority 0 and 10), every domain with zone and server."""
    out = ['[defaults]', 'key = "kms-update"', '', '[keys.kms-update]', 'file = "kms-update.key"', '',
           '[servers.lab]', f'address = "127.0.0.1:{port}"',
           *([f'max_inflight = {os.environ["KMSDNS_BENCH_MAX_INFLIGHT"]}'] if os.environ.get("KMSDNS_BENCH_MAX_INFLIGHT") else []), '',
           '[[hosts]]', 'name = "kms1.corp.example.com"', '',
           '[[hosts]]', 'name = "kms2.corp.example.com"', 'priority = 10', '']
    for z in range(zones):
        zone = zone_name(z, zones)
        for d in range(domains):
            out += ['[[domains]]', f'name = "{domain_name(d, z, zones, domains)}"', f'zone = "{zone}"',
                    'server = "lab"', '']
    return "\n".join(out)


def write_bind(lab, port, zones, domains, allow_transfer="none"):
    """named.conf and the zone files for a loopback BIND holding every zone (empty of KMS records)."""
    lab = Path(lab).resolve()
    conf = [f'include "{lab}/kms-update.key";',
            "options {", f'  directory "{lab}"; pid-file "{lab}/named.pid"; session-keyfile "{lab}/s.key";',
            f'  managed-keys-directory "{lab}"; listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};',
            f"  recursion no; notify no; dnssec-validation no; allow-transfer {{ {allow_transfer}; }};", "};",
            "controls { };"]
    soa = "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n"
    for z in range(zones):
        zone = zone_name(z, zones)
        (lab / f"{zone}.db").write_text(soa)
        # One wildcard-free grant per zone: every _vlmcs._tcp name below it (subdomain match).
        conf.append(f'zone "{zone}" {{ type primary; file "{lab}/{zone}.db"; '
                    f'update-policy {{ grant kms-update subdomain {zone}. SRV; }}; }};')
    (lab / "named.conf").write_text("\n".join(conf) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--zones", type=int, default=1000)
    ap.add_argument("--domains", type=int, default=10)
    ap.add_argument("--port", type=int, default=5300)
    ap.add_argument("--bind", action="store_true")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kmsdns.toml").write_text(config_text(a.port, a.zones, a.domains))
    if a.bind:
        write_bind(out, a.port, a.zones, a.domains)


if __name__ == "__main__":
    main()
