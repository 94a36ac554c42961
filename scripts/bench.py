#!/usr/bin/env python3
"""kmsdns benchmark: plan and apply at scale against a private BIND on 127.0.0.1.

Z zones x D domains each (two KMS hosts per domain) are created empty; then we time, with
wall clock and peak RSS of the process (os.wait4):
  1. `kmsdns plan`            (everything to add: reads Z*D RRsets, signed)
  2. `kmsdns apply --yes`     (Z signed UPDATEs, each changed RRset read back)
  3. `kmsdns plan`            (converged: no changes)
  4. baseline: one `nsupdate -k` run sending the same Z updates (on fresh zones), i.e. what
     an admin pasting nsupdate scripts gets — without reading state first or verifying after.

Usage: python3 scripts/bench.py [--zones 50] [--domains 10] [--runs 3] [--out docs/benchmarks.md]
Talks only to 127.0.0.1.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    while True:
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        p = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
            return p
        except OSError:
            pass
        finally:
            u.close()
            t.close()


GNU_TIME = "/usr/bin/time"


def measure_rss(cmd, stdin=None, env=None):
    """Runs cmd; returns (wall seconds, peak RSS MiB, exit code, stdout).

    Peak RSS comes from GNU time's %M when /usr/bin/time exists (Debian package `time`): a child
    forked from this Python process carries the harness's own RSS across exec in ru_maxrss (Linux
    keeps the pre-exec high-water mark), a ~12 MiB floor that hides a small program's real peak.
    GNU time forks the command from its own small process. Without it: fork/exec + wait4."""
    rss_file = None
    if os.path.exists(GNU_TIME):
        fd, rss_file = tempfile.mkstemp(prefix="kmsdns-bench-rss.")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file, "--", *cmd]
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(r_in, 0)
        os.dup2(w_out, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(w_in)
        os.close(r_out)
        os.execvpe(cmd[0], cmd, env or os.environ)
    os.close(r_in)
    os.close(w_out)
    if stdin:
        os.write(w_in, stdin.encode())
    os.close(w_in)
    chunks = []
    while True:
        b = os.read(r_out, 65536)
        if not b:
            break
        chunks.append(b)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    rss_kib = usage.ru_maxrss
    if rss_file:
        rss_kib = int(Path(rss_file).read_text().split()[-1])
        os.unlink(rss_file)
    return elapsed, rss_kib / 1024.0, os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


def start_named(lab, port, zones, domains_per_zone, allow_transfer="none"):
    """Z empty zones z000.example… (SOA, NS ns1, ns1 A) with update grants for the KMS SRV names.
    allow_transfer is the address match list for AXFR (e.g. "key kms-update")."""
    for f in lab.glob("*.jnl"):
        f.unlink()
    conf = [f'include "{lab}/kms-update.key";',
            "options {", f'  directory "{lab}"; pid-file "{lab}/named.pid"; session-keyfile "{lab}/s.key";',
            f'  managed-keys-directory "{lab}"; listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};',
            f"  recursion no; notify no; dnssec-validation no; allow-transfer {{ {allow_transfer}; }};", "};", "controls { };"]
    for z in range(zones):
        zone = f"z{z:03d}.example"
        (lab / f"{zone}.db").write_text(
            f"$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n")
        grants = " ".join(f"grant kms-update name _vlmcs._tcp.d{d:02d}.{zone}. SRV;" for d in range(domains_per_zone))
        conf.append(f'zone "{zone}" {{ type primary; file "{lab}/{zone}.db"; update-policy {{ {grants} }}; }};')
    (lab / "named.conf").write_text("\n".join(conf) + "\n")
    args = ["named", "-g", "-4", "-c", str(lab / "named.conf")]
    if os.geteuid() == 0:
        args[1:1] = ["-u", "root"]
    proc = subprocess.Popen(args, stdout=open(lab / "named.log", "w"), stderr=subprocess.STDOUT)
    last = f"z{zones - 1:03d}.example"
    for _ in range(200):
        r = subprocess.run(["dig", "+short", "+norec", "+time=1", "+tries=1", "@127.0.0.1", "-p", str(port), last, "SOA"],
                           capture_output=True, text=True)
        if "hostmaster" in r.stdout:
            return proc
        time.sleep(0.05)
    proc.kill()
    sys.exit("named did not start; see " + str(lab / "named.log"))


def kmsdns_config(port, zones, domains_per_zone):
    """The kmsdns config for the lab: key file kms-update.key beside it, two hosts (priority 0 and 10)."""
    cfg = ['[defaults]', 'key = "kms-update"', '[keys.kms-update]', 'file = "kms-update.key"',
           '[servers.lab]', f'address = "127.0.0.1:{port}"',
           '[[hosts]]', 'name = "kms1.corp.example.com"', '[[hosts]]', 'name = "kms2.corp.example.com"', 'priority = 10']
    for z in range(zones):
        for d in range(domains_per_zone):
            cfg += ['[[domains]]', f'name = "d{d:02d}.z{z:03d}.example"', f'zone = "z{z:03d}.example"', 'server = "lab"']
    return "\n".join(cfg) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zones", type=int, default=50)
    ap.add_argument("--domains", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    a = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=ROOT, check=True)
    kmsdns = str(ROOT / "target" / "release" / "kmsdns")
    env = dict(os.environ, NO_COLOR="1")
    env.pop("KMSDNS_CONFIG", None)
    env.pop("RUST_LOG", None)

    results = {k: [] for k in ["plan (all to add)", "apply --yes", "plan (converged)", "nsupdate baseline"]}
    for run in range(a.runs):
        lab = Path(tempfile.mkdtemp(prefix="kmsdns-bench."))
        try:
            port = free_port()
            subprocess.run([kmsdns, "keygen", "kms-update", "-o", str(lab / "kms-update.key")], check=True, capture_output=True, env=env)
            (lab / "kmsdns.toml").write_text(kmsdns_config(port, a.zones, a.domains))
            c = ["-c", str(lab / "kmsdns.toml")]

            named = start_named(lab, port, a.zones, a.domains)
            try:
                for name, args, want in [("plan (all to add)", ["plan", "--detailed-exitcode"], 2),
                                         ("apply --yes", ["apply", "--yes"], 0),
                                         ("plan (converged)", ["plan", "--detailed-exitcode"], 0)]:
                    secs, rss, code, out = measure_rss([kmsdns, *c, *args], env=env)
                    if code != want:
                        sys.exit(f"{name}: exit {code}, expected {want}\n{out[-2000:]}")
                    results[name].append((secs, rss))
            finally:
                named.kill()
                named.wait()

            # Baseline on fresh zones: the same updates through one nsupdate run.
            named = start_named(lab, port, a.zones, a.domains)
            try:
                script = [f"server 127.0.0.1 {port}"]
                for z in range(a.zones):
                    script.append(f"zone z{z:03d}.example")
                    for d in range(a.domains):
                        owner = f"_vlmcs._tcp.d{d:02d}.z{z:03d}.example."
                        script.append(f"update add {owner} 3600 SRV 0 0 1688 kms1.corp.example.com.")
                        script.append(f"update add {owner} 3600 SRV 10 0 1688 kms2.corp.example.com.")
                    script.append("send")
                secs, rss, code, out = measure_rss(["nsupdate", "-k", str(lab / "kms-update.key")], stdin="\n".join(script) + "\n", env=env)
                if code != 0:
                    sys.exit(f"nsupdate baseline failed: {code}")
                results["nsupdate baseline"].append((secs, rss))
            finally:
                named.kill()
                named.wait()
        finally:
            shutil.rmtree(lab, ignore_errors=True)

    domains = a.zones * a.domains
    lines = [
        "# Benchmarks",
        "",
        f"`python3 scripts/bench.py --zones {a.zones} --domains {a.domains} --runs {a.runs}` on this project's machine",
        f"(2 cores, 24 GiB; BIND {subprocess.run(['named', '-v'], capture_output=True, text=True).stdout.split()[1]} on 127.0.0.1):",
        f"{a.zones} zones x {a.domains} domains = {domains} `_vlmcs._tcp` RRsets, 2 targets each ({2 * domains} records),",
        "every message TSIG-signed (hmac-sha256). Median of the runs; peak RSS of the measured process (GNU time's %M).",
        "",
        "| step | median wall time | min | max | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for name, vals in results.items():
        secs = [v[0] for v in vals]
        rss = max(v[1] for v in vals)
        lines.append(f"| {name} | {statistics.median(secs):.3f} s | {min(secs):.3f} s | {max(secs):.3f} s | {rss:.1f} MiB |")
    lines += [
        "",
        f"`plan` reads {domains} RRsets (one signed query each, zones read concurrently, 8 at a time) and",
        f"diffs them; `apply` does the same read, sends {a.zones} signed UPDATEs with prerequisites and reads",
        f"every changed RRset back ({domains} more queries). The nsupdate baseline only sends the {a.zones}",
        "updates: no state read, no prerequisites, no verification.",
        "",
    ]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    old = Path(a.out).read_text() if Path(a.out).exists() else ""
    # Keep every later section (e.g. "kmsdns vs. octoDNS" from bench_octodns.py, and History).
    i = old.find("\n## ")
    tail = old[i:] if i >= 0 else "\n## History\n"
    Path(a.out).write_text("\n".join(lines) + tail)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
