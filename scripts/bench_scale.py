#!/usr/bin/env python3
"""Scale measurements for issue 13: validate, apply and a no-op plan at Z zones x D domains
against a loopback BIND, with kmsdns's CPU (user+sys, GNU time) and peak RSS, and named's CPU
for the same run (utime+stime from /proc/<pid>/stat before and after). Reads are TSIG-signed.

Usage: python3 scripts/bench_scale.py --zones 10000 --domains 1 [--bin target/release/kmsdns]
       [--runs 3] [--validate-only]
Prints one Markdown table row per step. Talks only to 127.0.0.1. The estate comes from
scripts/gen_estate.py.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_estate  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from lab import free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def named_cpu(pid):
    """named's user+sys CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def timed(cmd, env):
    """(wall s, user+sys CPU s, peak RSS MiB, exit code) of cmd, through GNU time."""
    fd, out = tempfile.mkstemp(prefix="kmsdns-scale.")
    os.close(fd)
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", out, "--", *cmd], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    u, s, m = Path(out).read_text().split()[-3:]
    os.unlink(out)
    return wall, float(u) + float(s), int(m) / 1024, r.returncode, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zones", type=int, default=1000)
    ap.add_argument("--domains", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "target/release/kmsdns"))
    ap.add_argument("--validate-only", action="store_true")
    a = ap.parse_args()
    env = dict(os.environ, NO_COLOR="1")
    env.pop("KMSDNS_CONFIG", None)
    env.pop("RUST_LOG", None)
    n = a.zones * a.domains
    lab = Path(tempfile.mkdtemp(prefix="kmsdns-scale."))
    rows = []
    try:
        port = free_port()
        subprocess.run([a.bin, "keygen", "kms-update", "-o", str(lab / "kms-update.key")], check=True,
                       capture_output=True, env=env)
        (lab / "kmsdns.toml").write_text(gen_estate.config_text(port, a.zones, a.domains))
        c = [a.bin, "-c", str(lab / "kmsdns.toml")]
        best = min((timed([*c, "validate", "--offline"], env) for _ in range(a.runs)), key=lambda t: t[1])
        rows.append(("validate --offline", best, None))
        if a.validate_only:
            return
        gen_estate.write_bind(lab, port, a.zones, a.domains)
        args = ["named", "-g", "-4", "-c", str(lab / "named.conf")]
        if os.geteuid() == 0:
            args[1:1] = ["-u", "root"]
        named = subprocess.Popen(args, stdout=open(lab / "named.log", "w"), stderr=subprocess.STDOUT)
        try:
            last = gen_estate.zone_name(a.zones - 1, a.zones)
            for _ in range(6000):
                r = subprocess.run(["dig", "+short", "+norec", "+time=1", "+tries=1", "@127.0.0.1", "-p", str(port),
                                    last, "SOA"], capture_output=True, text=True)
                if "hostmaster" in r.stdout:
                    break
                time.sleep(0.1)
            else:
                sys.exit(f"named did not start; see {lab}/named.log")
            for name, step, want, runs in [("apply --yes", ["apply", "--yes"], 0, 1),
                                           ("plan (no changes)", ["plan", "--detailed-exitcode"], 0, a.runs)]:
                results = []
                for _ in range(runs):
                    before = named_cpu(named.pid)
                    t = timed([*c, *step], env)
                    if t[3] != want:
                        sys.exit(f"{name}: exit {t[3]}, expected {want}\n{t[4][-3000:]}")
                    results.append((t, named_cpu(named.pid) - before))
                rows.append((name, *min(results, key=lambda r: r[0][1])))
            # Spot check with dig: the last domain has both records.
            owner = f"_vlmcs._tcp.{gen_estate.domain_name(a.domains - 1, a.zones - 1, a.zones, a.domains)}"
            r = subprocess.run(["dig", "+short", "@127.0.0.1", "-p", str(port), owner, "SRV"],
                               capture_output=True, text=True)
            if len(r.stdout.split("\n")) < 2 or "kms2.corp.example.com." not in r.stdout:
                sys.exit(f"dig {owner} SRV: {r.stdout!r}")
        finally:
            named.kill()
            named.wait()
    finally:
        print(f"| step | N = {n} ({a.zones} x {a.domains}) | wall | kmsdns CPU | peak RSS | named CPU | ratio |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for name, (wall, cpu, rss, _, _), ncpu in rows:
            extra = f"| {ncpu:.2f} s | {cpu / ncpu:.2f} |" if ncpu else "| – | – |"
            print(f"| {name} | {n} | {wall:.2f} s | {cpu:.2f} s | {rss:.1f} MiB {extra}")
        shutil.rmtree(lab, ignore_errors=True)


if __name__ == "__main__":
    main()
