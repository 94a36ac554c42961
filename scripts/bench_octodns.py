#!/usr/bin/env python3
"""kmsdns vs. octoDNS on the same workload, against a private BIND on 127.0.0.1.

The lab is bench.py's (Z zones x D domains, one TSIG key with update grants for the
`_vlmcs._tcp.<domain>` SRV names), plus `allow-transfer { key kms-update; }` because octoDNS's
Rfc2136Provider reads zones by AXFR. Per run, on a fresh lab each, with wall clock and peak RSS
of the process (bench.measure_rss):
  octoDNS: `octodns-sync` (dry run, all to add), `octodns-sync --doit`, `octodns-sync` (converged)
  kmsdns:  `kmsdns plan`, `kmsdns apply --yes`, `kmsdns plan` (converged)
Both labs are then read by AXFR and must hold the same records (SOA aside).

octoDNS is installed with pip into a venv in a temp dir, or in $KMSDNS_BENCH_VENV (created if
missing, reused if present). Nothing from it belongs in the repository.

Usage: python3 scripts/bench_octodns.py [--zones 50] [--domains 10] [--runs 3] [--out docs/benchmarks.md]
Talks only to 127.0.0.1 (DNS) and PyPI (pip).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = bench.ROOT
OCTODNS = "octodns==1.22.0"
OCTODNS_BIND = "octodns-bind==1.1.0"
HEADING = "## kmsdns vs. octoDNS"
TARGETS = [(0, "kms1.corp.example.com."), (10, "kms2.corp.example.com.")]  # as kmsdns_config's hosts


def venv_ready():
    """Returns (venv dir, {package: version}, temp dir to remove or None)."""
    tmp = None
    venv = os.environ.get("KMSDNS_BENCH_VENV")
    if not venv:
        tmp = tempfile.mkdtemp(prefix="kmsdns-bench-venv.")
        venv = tmp
    venv = Path(venv)
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    have = subprocess.run([str(py), "-m", "pip", "show", "octodns", "octodns-bind"], capture_output=True, text=True).stdout
    if "Name: octodns-bind" not in have or "Name: octodns\n" not in have:
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", OCTODNS, OCTODNS_BIND],
                       check=True)
    versions = {}
    for pkg in ["octodns", "octodns-bind", "dnspython"]:
        out = subprocess.run([str(py), "-m", "pip", "show", pkg], capture_output=True, text=True, check=True).stdout
        versions[pkg] = re.search(r"^Version: (\S+)", out, re.M).group(1)
    return venv, versions, tmp


def octodns_config(lab, port, zones, domains_per_zone, secret):
    """octoDNS config + one YAML file per zone with the same SRV records kmsdns_config asks for.

    Each YAML also holds the lab's `ns1 A 127.0.0.1` (bench.start_named's zone file): octoDNS
    owns every non-apex name of a zone it syncs and would otherwise plan to delete it (BIND's
    update-policy then refuses the whole UPDATE). The root NS it ignores when the YAML has none."""
    ydir = lab / "octodns"
    ydir.mkdir()
    for z in range(zones):
        y = ["---"]
        for d in range(domains_per_zone):  # sorted keys: YamlProvider enforces order by default
            y += [f"_vlmcs._tcp.d{d:02d}:", "  ttl: 3600", "  type: SRV", "  values:"]
            for prio, target in TARGETS:
                y += [f"  - port: 1688", f"    priority: {prio}", f"    target: {target}", "    weight: 0"]
        y += ["ns1:", "  ttl: 300", "  type: A", "  value: 127.0.0.1"]
        (ydir / f"z{z:03d}.example.yaml").write_text("\n".join(y) + "\n")
    c = ["---", "providers:",
         "  config:", "    class: octodns.provider.yaml.YamlProvider", f"    directory: {ydir}",
         "  lab:", "    class: octodns_bind.Rfc2136Provider", "    host: 127.0.0.1", f"    port: {port}",
         "    key_name: kms-update", f"    key_secret: {secret}", "    key_algorithm: hmac-sha256",
         "zones:"]
    for z in range(zones):
        c += [f"  z{z:03d}.example.:", "    sources: [config]", "    targets: [lab]"]
    (lab / "octodns.yaml").write_text("\n".join(c) + "\n")
    return lab / "octodns.yaml"


def axfr_dump(lab, port, zones):
    """Every record of every zone (SOA left out: serials differ by design; TSIG too), sorted."""
    rows = []
    for z in range(zones):
        r = subprocess.run(["dig", "-k", str(lab / "kms-update.key"), "@127.0.0.1", "-p", str(port), f"z{z:03d}.example", "AXFR",
                            "+nocmd", "+nostats", "+nocomments", "+noquestion"], capture_output=True, text=True, check=True)
        recs = [line.split() for line in r.stdout.splitlines() if line and not line.startswith(";")]
        if not any(f[3] == "SOA" for f in recs):
            sys.exit(f"AXFR of z{z:03d}.example failed:\n{r.stdout}")
        rows += [" ".join(f) for f in recs if f[3] not in ("SOA", "TSIG")]
    return sorted(rows)


def summary(out):
    """Adds up octoDNS's per-zone plan summaries."""
    tot = {"Creates": 0, "Updates": 0, "Deletes": 0}
    for m in re.finditer(r"Summary: Creates=(\d+), Updates=(\d+), Deletes=(\d+)", out):
        for k, v in zip(tot, m.groups()):
            tot[k] += int(v)
    return tot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zones", type=int, default=50)
    ap.add_argument("--domains", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    a = ap.parse_args()
    n = a.zones * a.domains

    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=ROOT, check=True)
    kmsdns = str(ROOT / "target" / "release" / "kmsdns")
    kv = subprocess.run([kmsdns, "--version"], capture_output=True, text=True, check=True).stdout.split()[-1]
    venv, versions, venv_tmp = venv_ready()
    sync = str(venv / "bin" / "octodns-sync")
    env = dict(os.environ, NO_COLOR="1")
    env.pop("KMSDNS_CONFIG", None)
    env.pop("RUST_LOG", None)

    steps = ["plan / dry run (all to add)", "apply", "plan / dry run (converged)", "start-up only"]
    res = {t: {s: [] for s in steps} for t in ["kmsdns", "octoDNS"]}
    try:
        for run in range(a.runs):
            lab = Path(tempfile.mkdtemp(prefix="kmsdns-bench-octodns."))
            try:
                subprocess.run([kmsdns, "keygen", "kms-update", "-o", str(lab / "kms-update.key")], check=True,
                               capture_output=True, env=env)
                secret = re.search(r'secret "([^"]+)"', (lab / "kms-update.key").read_text()).group(1)
                dumps = {}

                port = bench.free_port()
                cfg = octodns_config(lab, port, a.zones, a.domains, secret)
                named = bench.start_named(lab, port, a.zones, a.domains, allow_transfer="key kms-update")
                try:
                    base = [sync, "--config-file", str(cfg), "--log-stream-stdout"]
                    for step, extra, want in [(steps[0], [], n), (steps[1], ["--doit"], n), (steps[2], [], 0)]:
                        secs, rss, code, out = bench.measure_rss(base + extra, env=env)
                        got = summary(out)
                        if code != 0 or got != {"Creates": want, "Updates": 0, "Deletes": 0}:
                            sys.exit(f"octodns-sync {step}: exit {code}, plan {got}, expected {want} creates only\n{out[-3000:]}")
                        res["octoDNS"][step].append((secs, rss))
                    dumps["octoDNS"] = axfr_dump(lab, port, a.zones)
                    secs, rss, code, out = bench.measure_rss([sync, "--version"], env=env)
                    res["octoDNS"][steps[3]].append((secs, rss))
                finally:
                    named.kill()
                    named.wait()

                port = bench.free_port()  # fresh lab: zone files rewritten, journals removed
                (lab / "kmsdns.toml").write_text(bench.kmsdns_config(port, a.zones, a.domains))
                c = [kmsdns, "-c", str(lab / "kmsdns.toml")]
                named = bench.start_named(lab, port, a.zones, a.domains, allow_transfer="key kms-update")
                try:
                    if axfr_dump(lab, port, a.zones) == dumps["octoDNS"]:
                        sys.exit("fresh lab already holds the records: the lab was not reset")
                    for step, args, want in [(steps[0], ["plan", "--detailed-exitcode"], 2), (steps[1], ["apply", "--yes"], 0),
                                             (steps[2], ["plan", "--detailed-exitcode"], 0)]:
                        secs, rss, code, out = bench.measure_rss(c + args, env=env)
                        if code != want:
                            sys.exit(f"kmsdns {step}: exit {code}, expected {want}\n{out[-2000:]}")
                        res["kmsdns"][step].append((secs, rss))
                    dumps["kmsdns"] = axfr_dump(lab, port, a.zones)
                    secs, rss, code, out = bench.measure_rss([kmsdns, "--version"], env=env)
                    res["kmsdns"][steps[3]].append((secs, rss))
                finally:
                    named.kill()
                    named.wait()

                if dumps["kmsdns"] != dumps["octoDNS"]:
                    diff = sorted(set(dumps["kmsdns"]) ^ set(dumps["octoDNS"]))
                    sys.exit("kmsdns and octoDNS left different zones:\n" + "\n".join(diff[:40]))
                srv = [r for r in dumps["kmsdns"] if r.split()[3] == "SRV"]
                if len(srv) != 2 * n or len(dumps["kmsdns"]) != 2 * n + 2 * a.zones:
                    sys.exit(f"unexpected zone contents: {len(srv)} SRV of {len(dumps['kmsdns'])} records")
                print(f"run {run + 1}: both tools left the same {len(dumps['kmsdns'])} records (SOA aside)", file=sys.stderr)
            finally:
                shutil.rmtree(lab, ignore_errors=True)
    finally:
        if venv_tmp:
            shutil.rmtree(venv_tmp, ignore_errors=True)

    def med(t, s):
        return f"{statistics.median(v[0] for v in res[t][s]):.3f} s"

    def rss(t, s):
        return f"{max(v[1] for v in res[t][s]):.1f} MiB"

    bind = subprocess.run(["named", "-v"], capture_output=True, text=True).stdout.split()[1]
    lines = [
        HEADING,
        "",
        f"`python3 scripts/bench_octodns.py --zones {a.zones} --domains {a.domains} --runs {a.runs}`: the same lab and workload",
        f"({n} `_vlmcs._tcp` RRsets, 2 SRV targets each, TSIG hmac-sha256, BIND {bind}), kmsdns {kv} against",
        f"octoDNS {versions['octodns']} with octodns-bind {versions['octodns-bind']} (`Rfc2136Provider`, dnspython",
        f"{versions['dnspython']}, Python {sys.version.split()[0]}) syncing a `YamlProvider` directory of one file per zone.",
        "Each tool gets a fresh lab per run; median wall time of the runs, highest peak RSS. After each run",
        "both labs are read by AXFR and must hold the same records (SOA aside); they did.",
        "",
        "| step | kmsdns median | octoDNS median | kmsdns peak RSS | octoDNS peak RSS |",
        "|---|---|---|---|---|",
    ]
    cmds = {steps[0]: "`plan` / `octodns-sync` (all to add)", steps[1]: "`apply --yes` / `octodns-sync --doit`",
            steps[2]: "`plan` / `octodns-sync` (converged)", steps[3]: "start-up only: `--version`"}
    for s in steps:
        lines.append(f"| {cmds[s]} | {med('kmsdns', s)} | {med('octoDNS', s)} | {rss('kmsdns', s)} | {rss('octoDNS', s)} |")
    lines += [
        "",
        f"octoDNS reads each of the {a.zones} zones whole by a signed AXFR (one zone after the other with",
        "its default `max_workers: 1`), loads the YAML, diffs, and on `--doit` sends one signed UPDATE per",
        "zone with plain adds (no prerequisites), without reading back; the converged dry run repeats the",
        f"reads and diff. kmsdns reads only the {n} managed RRsets, one signed query each (8 zones at a",
        f"time), sends {a.zones} UPDATEs guarded by prerequisites on the state it read, and reads every",
        "changed RRset back. octoDNS owns every name in a zone it syncs: with only the SRV records in",
        "the YAML it planned to delete the lab's `ns1 A` (and BIND's update-policy refused that whole",
        "UPDATE), so each YAML file also lists `ns1 A 127.0.0.1`; the root NS it leaves alone when the YAML",
        "has none (logging a warning per zone), and drops the SOA from what it reads. kmsdns looks only at",
        "the `_vlmcs._tcp` names it is configured for. The last row is process start-up alone.",
        "",
    ]
    out = Path(a.out)
    old = out.read_text() if out.exists() else "# Benchmarks\n"
    section = "\n".join(lines)
    if f"\n{HEADING}\n" in old:  # replace our earlier section, keep what follows it
        head, rest = old.split(f"\n{HEADING}\n", 1)
        j = rest.find("\n## ")
        new = head + "\n" + section + (rest[j:] if j >= 0 else "")
    elif "\n## History\n" in old:
        head, hist = old.split("\n## History\n", 1)
        new = head.rstrip("\n") + "\n\n" + section + "\n## History\n" + hist
    else:
        new = old.rstrip("\n") + "\n\n" + section
    out.write_text(new)
    print(section)


if __name__ == "__main__":
    main()
