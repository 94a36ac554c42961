#!/usr/bin/env python3
"""kmsdns benchmark: one run times kmsdns and its peers against a private BIND on 127.0.0.1
and writes BENCHMARKS.md (see README, "Benchmarks").

For each size (domains) and shape — "flat": N zones x 1 domain; "deep": N/100 zones x 100
domains — with 2 KMS hosts per domain and TSIG hmac-sha256, it starts named with empty zones
and measures `kmsdns validate --offline`, `plan` (all to add), `apply --yes` and a no-op
`plan`: wall time, peak RSS and user+sys CPU (GNU time), and named's CPU meanwhile
(/proc/<pid>/stat). At the peer sizes it restarts named from the same zone files for each peer:
4 and 8 parallel `nsupdate -k` (the floor: best of the two), one batched nsupdate, and
octoDNS + octodns-bind (pinned in bench/requirements.txt, venv in target/bench-venv). Every
result is read back by AXFR with dig and compared record by record.

Usage: python3 bench/run.py [--quick] [--sizes 1000,10000,100000] [--kmsdns PATH] [--out FILE]
"""

import argparse
import atexit
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab import GNU_TIME, BindLimit, Lab, Shape, clean_env, run_group  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NEEDED = {"named": "bind9", "nsupdate": "bind9-dnsutils", "dig": "bind9-dnsutils", "tsig-keygen": "bind9",
          GNU_TIME: "time"}
LABS = []  # every Lab started, so that an interrupted run still stops named and removes its files


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--kmsdns", default=str(ROOT / "target" / "release" / "kmsdns"),
                    help="kmsdns binary (default: target/release/kmsdns; build it with `cargo build --release`)")
    ap.add_argument("--sizes", default="1000,10000,100000", help="domain counts, comma-separated (default: %(default)s)")
    ap.add_argument("--shapes", default="flat,deep", help="flat (N zones x 1 domain), deep (N/100 zones x 100 domains)")
    ap.add_argument("--peer-sizes", default="1000,10000", help="sizes at which the peers run too (default: %(default)s)")
    ap.add_argument("--no-octodns", action="store_true", help="leave octoDNS out of the peers")
    ap.add_argument("--no-profile", action="store_true", help="skip the callgrind profile of a no-op plan")
    ap.add_argument("--quick", action="store_true", help="1,000 domains only, no octoDNS, no profile (under a minute)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of validate and of the no-op plan (median reported) up to --repeat-upto domains")
    ap.add_argument("--repeat-upto", type=int, default=10000, help="largest size run --repeat times; above: once")
    ap.add_argument("--bind-timeout", type=float, default=900, help="seconds named may take to load the zones")
    ap.add_argument("--bind-max-rss", type=float, default=12288, help="MiB of RSS named may use while loading")
    ap.add_argument("--step-timeout", type=float, default=1800, help="seconds one measured step may take")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="report to write (default: BENCHMARKS.md)")
    ap.add_argument("--json", default=str(ROOT / "target" / "bench" / "results.json"), help="raw results (default: %(default)s)")
    ap.add_argument("--lab-dir", default="/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir(),
                    help="where the lab's temp dir goes (default %(default)s: tmpfs, so BIND's journal fsyncs cost no disk)")
    ap.add_argument("--from-json", metavar="FILE", help="measure nothing: rewrite --out from an earlier run's results")
    ap.add_argument("--keep", action="store_true", help="keep the lab directories (they hold a TSIG key) for debugging")
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.peer_sizes, a.no_octodns, a.no_profile = "1000", "1000", True, True
    a.sizes = sorted({int(x) for x in a.sizes.split(",") if x})
    a.peer_sizes = {int(x) for x in a.peer_sizes.split(",") if x}
    a.shapes = [s for s in a.shapes.split(",") if s]
    if any(s not in ("flat", "deep") for s in a.shapes):
        ap.error("--shapes takes flat and/or deep")
    return a


def shape_of(kind, size):
    return Shape(size, 1) if kind == "flat" else Shape(max(1, size // 100), 100)


def step_dict(m, ok, note=""):
    return {"wall": m.wall, "rss_mib": m.rss_mib, "cpu": m.cpu, "named_cpu": m.named_cpu, "code": m.code,
            "ok": ok, "note": note or m.note}


def measure_kmsdns(lab, kmsdns, args, want, runs, timeout, tag):
    """Runs kmsdns `runs` times; the median run by wall time, peak RSS the largest of all."""
    cfg = lab.root / "kmsdns.toml"
    got = []
    for n in range(runs):
        m = run_group([[kmsdns, "-c", str(cfg), *args]], lab.root, f"{tag}.{n}", named=lab.named, timeout=timeout)
        got.append(m)
        if m.code != want:
            why = "timeout" if m.note == "timeout" else f"exit {m.code}, expected {want}: {m.tail()}"
            return step_dict(m, False, why)
    got.sort(key=lambda x: x.wall)
    med = got[len(got) // 2]
    d = step_dict(med, True)
    d["rss_mib"] = max(x.rss_mib for x in got)
    d["runs"] = len(got)
    if len(got) > 1:
        d["spread"] = [got[0].wall, got[-1].wall]
    return d


def kmsdns_config(lab):
    """The kmsdns config for the lab: key file beside it, two hosts (priority 0 and 10)."""
    lines = ["[defaults]", 'key = "kms-update"', "[keys.kms-update]", f'file = "{lab.key.name}"',
             "[servers.lab]", f'address = "127.0.0.1:{lab.port}"',
             "[[hosts]]", 'name = "kms1.corp.example.com"', "[[hosts]]", 'name = "kms2.corp.example.com"', "priority = 10"]
    for zone, owner in lab.shape.owners():
        lines += ["[[domains]]", f'name = "{owner[len("_vlmcs._tcp."):-1]}"', f'zone = "{zone}"', 'server = "lab"']
    (lab.root / "kmsdns.toml").write_text("\n".join(lines) + "\n")


def log(msg):
    print(f"[{datetime.now(timezone.utc):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def start_fresh(lab, a, case, what):
    """named from the pristine zone files; on failure records where BIND stopped."""
    try:
        named = lab.start(a.bind_timeout, a.bind_max_rss)
    except BindLimit as e:
        case.setdefault("bind_limit", f"{what}: {e}")
        log(f"  BIND could not hold this shape: {e}")
        return False
    case.setdefault("bind", {"load_wall": named.load_wall, "load_cpu": named.load_cpu, "rss_mib": named.load_rss_mib})
    kmsdns_config(lab)  # the port is new on every start
    return True


def run_kmsdns(lab, a, case):
    reps = a.repeat if lab.shape.domains <= a.repeat_upto else 1
    k = case["kmsdns"]
    steps = [("validate", ["validate", "--offline"], 0, reps), ("plan-empty", ["plan", "--detailed-exitcode"], 2, 1),
             ("apply", ["apply", "--yes"], 0, 1)]
    for name, args, want, runs in steps:
        log(f"  kmsdns {' '.join(args)} x{runs}")
        k[name] = measure_kmsdns(lab, a.kmsdns, args, want, runs, a.step_timeout, name)
        log(f"    {report.fmt_step(k[name])}")
        if not k[name]["ok"] and name != "validate":
            break
    if k.get("apply", {}).get("ok"):
        ok, msg = lab.verify(True)
        k["apply"]["verified"] = msg
        k["apply"]["ok"] = ok
        log(f"    {msg}")
        log(f"  kmsdns plan --detailed-exitcode (no-op) x{reps}")
        k["plan-noop"] = measure_kmsdns(lab, a.kmsdns, ["plan", "--detailed-exitcode"], 0, reps, a.step_timeout, "plan-noop")
        log(f"    {report.fmt_step(k['plan-noop'])}")
        if not a.no_profile and "profile" not in RUN and lab.shape.per_zone == 1:
            RUN["profile"] = profile(lab, a)


def profile(lab, a):
    """callgrind on one no-op plan; the top functions, inclusive and self."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        return {"note": "valgrind not installed (Debian package valgrind)"}
    log("  callgrind: kmsdns plan (no-op)")
    out = lab.root / "callgrind.out"
    r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", a.kmsdns, "-c",
                        str(lab.root / "kmsdns.toml"), "plan", "--detailed-exitcode"], capture_output=True, text=True,
                       env=clean_env(), timeout=a.step_timeout)
    if r.returncode != 0:
        return {"note": f"callgrind run exited {r.returncode}: {r.stderr[-300:]}"}
    res = {"shape": lab.shape.label, "domains": lab.shape.domains}
    for mode in ("inclusive", "self"):
        ann = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if mode == 'inclusive' else 'no'}", str(out)],
                             capture_output=True, text=True).stdout
        res[f"{mode}_raw"] = "\n".join(ann.splitlines()[:400])  # parsed when the report is written
    return res


def run_peers(lab, a, case, sync):
    p = case["peers"]
    runs = [(f"nsupdate x{n}", n) for n in (4, 8)] + [("nsupdate batched", 1)]
    for name, procs in runs:
        first = None
        for attempt in (1, 2):  # a loaded machine can make nsupdate time out once: one more try, said so
            log(f"  {name} (fresh zones){' again' if first else ''}")
            if not start_fresh(lab, a, case, name):
                return
            m = peers.run_nsupdate(lab, procs, a.step_timeout, attempt)
            ok, msg = lab.verify(True) if m.code == 0 else (False, f"exit {m.code}: {m.tail()}")
            p[name] = step_dict(m, ok, "" if ok else msg)
            p[name]["verified"] = msg + (f" (second try; the first failed: {first})" if first else "")
            log(f"    {report.fmt_step(p[name])}; {msg}")
            if ok:
                break
            first = msg
    if sync:
        log("  octodns-sync --doit (fresh zones)")
        if not start_fresh(lab, a, case, "octoDNS"):
            return
        cfg = peers.octodns_config(lab)
        m, changes = peers.run_octodns(lab, sync, cfg, True, a.step_timeout)
        ok, msg = lab.verify(True) if m.code == 0 else (False, f"exit {m.code}: {m.tail()}")
        p["octoDNS --doit"] = step_dict(m, ok, "" if ok else msg)
        p["octoDNS --doit"]["verified"] = msg
        log(f"    {report.fmt_step(p['octoDNS --doit'])}; {changes:,} changes; {msg}")
        if ok:
            log("  octodns-sync (no-op)")
            m, changes = peers.run_octodns(lab, sync, cfg, False, a.step_timeout)
            ok = m.code == 0 and changes == 0
            p["octoDNS no-op"] = step_dict(m, ok, "" if ok else f"exit {m.code}, {changes} changes planned: {m.tail()}")
            log(f"    {report.fmt_step(p['octoDNS no-op'])}")


def run_case(kind, size, a, sync, tmp):
    shape = shape_of(kind, size)
    case = {"kind": kind, "size": size, "zones": shape.zones, "per_zone": shape.per_zone, "domains": shape.domains,
            "kmsdns": {}, "peers": {}}
    log(f"{shape.label} = {shape.domains:,} domains ({kind})")
    lab = Lab(Path(tempfile.mkdtemp(prefix=f"{kind}-{size}.", dir=tmp)), shape)
    LABS.append(lab)
    try:
        if start_fresh(lab, a, case, "kmsdns"):
            log(f"  named loaded {shape.zones:,} zones in {case['bind']['load_wall']:.1f} s, RSS {case['bind']['rss_mib']:.0f} MiB")
            run_kmsdns(lab, a, case)
            if size in a.peer_sizes:
                run_peers(lab, a, case, sync)
        else:  # validate needs no server: still measured where BIND gives up
            kmsdns_config(lab)
            log("  kmsdns validate --offline (no named)")
            case["kmsdns"]["validate"] = measure_kmsdns(lab, a.kmsdns, ["validate", "--offline"], 0, 1, a.step_timeout,
                                                        "validate")
            log(f"    {report.fmt_step(case['kmsdns']['validate'])}")
    finally:
        lab.stop()
        if not a.keep:
            shutil.rmtree(lab.root, ignore_errors=True)
    return case


RUN = {}


def main(argv):
    a = parse_args(argv)
    if a.from_json:
        RUN.update(json.loads(Path(a.from_json).read_text()))
        out = Path(a.out)
        out.write_text(report.markdown(RUN, out.read_text() if out.exists() else ""))
        return
    missing = [f"{c} (Debian package {pkg})" for c, pkg in NEEDED.items() if not shutil.which(c)]
    if missing:
        sys.exit("bench: missing " + ", ".join(missing))
    if not Path(a.kmsdns).exists():
        sys.exit(f"bench: no kmsdns at {a.kmsdns}: run `cargo build --release` first or pass --kmsdns PATH")
    a.kmsdns = str(Path(a.kmsdns).resolve())
    sync, versions = None, {}
    if not a.no_octodns and a.peer_sizes & set(a.sizes):
        sync, versions = peers.venv_ready(ROOT / "target" / "bench-venv")
    tmp = Path(tempfile.mkdtemp(prefix="kmsdns-bench.", dir=a.lab_dir))

    def cleanup():
        for lab in LABS:
            lab.stop()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))

    RUN.update(meta=report.machine(a, versions, argv), cases=[])
    RUN["meta"]["lab_dir"] = a.lab_dir
    started = time.perf_counter()
    # The biggest flat shape (the most zones for BIND to hold) runs last.
    order = sorted(((k, s) for s in a.sizes for k in a.shapes), key=lambda x: (x[1], x[0] == "flat"))
    for kind, size in order:
        RUN["cases"].append(run_case(kind, size, a, sync, tmp))
        RUN["meta"]["duration_s"] = time.perf_counter() - started
        write(a)  # after every case: an interrupted run still leaves what it measured
    log(f"done in {RUN['meta']['duration_s']:.0f} s; wrote {a.out}")


def write(a):
    RUN["meta"]["load_end"] = Path("/proc/loadavg").read_text().split()[:3]
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(RUN, indent=1) + "\n")
    out = Path(a.out)
    old = out.read_text() if out.exists() else ""
    out.write_text(report.markdown(RUN, old))


if __name__ == "__main__":
    main(sys.argv[1:])
