"""BENCHMARKS.md from bench/run.py's results: machine, tables, the issue's goals, history."""

import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = [("validate", "`validate --offline`"), ("plan-empty", "`plan` (all to add)"), ("apply", "`apply --yes`"),
         ("plan-noop", "`plan` (no-op)")]
HISTORY = "## History"
SEED_HISTORY = """Headline numbers of earlier runs, newest first; bench/run.py adds one line per run (the
tables above are only the latest). Entries before bench/ come from the scripts it replaced.

- 2026 (issue 13, before the scale work; scripts/bench.py, loopback BIND 9.18, N zones x 1 domain):
  1,000 zones: apply 0.64 s, floor 0.82 s (ratio 0.78), no-op plan 0.093 s, peak RSS 11.4 MiB;
  10,000 zones: apply 7.45–7.9 s, floor 7.83 s (≈ 1.0), no-op plan 2.2 s with 0.49 s of BIND CPU
  (4.5×), peak RSS 68–70 MiB. octoDNS + octodns-bind at 1,000 zones: apply 4.70 s, no-op 3.49 s.
  `validate`: 2,000 domains 0.02 s, 32,000 2.45 s, 64,000 11.3 s (quadratic).
- Earlier (scripts/bench.py and scripts/bench_octodns.py, 50 zones x 10 domains = 500 domains,
  median of 3): plan (all to add) 0.038 s, apply 0.103 s, no-op plan 0.040 s, one batched
  nsupdate 0.079 s; octoDNS 1.22.0: dry run 0.648 s, `--doit` 0.812 s, no-op 0.772 s, 32 MiB.
"""


def _cmd(args, err=False):
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        return ((r.stderr if err else r.stdout) or r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def machine(a, versions, argv):
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    mem = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1)) / 1024 / 1024
    osr = re.search(r'^PRETTY_NAME="?([^"\n]+)', Path("/etc/os-release").read_text(), re.M) if Path("/etc/os-release").exists() else None
    commit = _cmd(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "id": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(["python3 bench/run.py", *argv]),
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "cores": os.cpu_count(),
        "mem_gib": mem,
        "os": f"{osr.group(1) if osr else platform.system()}, Linux {platform.release()}",
        "load_start": Path("/proc/loadavg").read_text().split()[:3],
        "kmsdns": _cmd([a.kmsdns, "--version"]),
        "kmsdns_path": os.path.relpath(a.kmsdns, ROOT) if a.kmsdns.startswith(str(ROOT)) else a.kmsdns,
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "bind": _cmd(["named", "-v"]),
        "dig": _cmd(["dig", "-v"], err=True),
        "python": sys.version.split()[0],
        "peers": versions,
        "repeat": a.repeat, "repeat_upto": a.repeat_upto,
    }


BOILERPLATE = re.compile(r"\(below main\)|lang_start|libc_start|__rust_begin_short_backtrace|^main$|^kmsdns::main|"
                         r"^0x[0-9a-f]+$|start_thread|^clone|thread::Builder|std::sys::.*thread|FnOnce.*call_once|"
                         r"^tokio::runtime::|^std::thread::local::|^tokio::task::|^core::ops::function::")


def parse_callgrind(text, n=10):
    """The first n function rows of callgrind_annotate's output as (percent, name), leaving out
    process and thread entry frames (100 % inclusive, says nothing) and file prefixes."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = re.sub(r"\s+\[[^\]]*\]$", "", m.group(3))
        name = re.sub(r"^(?:\?\?\?|\S+?\.(?:c|S|h|rs|cc)):", "", name)
        if BOILERPLATE.search(name):
            continue
        rows.append((float(m.group(2)), name[:140]))
        if len(rows) == n:
            break
    return rows


def esc(text):
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def s(x):
    return "–" if x is None else f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def mib(x):
    return "–" if not x else f"{x:.1f} MiB"


def fmt_step(d):
    base = f"{s(d['wall'])}, {mib(d['rss_mib'])}, CPU {s(d['cpu'])}, named CPU {s(d['named_cpu'])}"
    return base if d["ok"] else f"FAILED ({d['note']}) after {base}"


def label(c):
    return f"{c['zones']:,} zones × {c['per_zone']}"


def floor(c):
    walls = [c["peers"][k]["wall"] for k in ("nsupdate x4", "nsupdate x8") if c["peers"].get(k, {}).get("ok")]
    return min(walls) if walls else None


def ok(c, step):
    d = c["kmsdns"].get(step)
    return d if d and d["ok"] else None


def status(good):
    return "**MET**" if good else "**NOT MET**"


def goals(run):
    """Rows (goal, case, measured, target, status) for issue 13's goals."""
    rows, cases = [], run["cases"]
    for c in cases:
        lab = f"{label(c)} ({c['domains']:,})"
        if c["domains"] >= 100000:
            v = ok(c, "validate")
            rows.append(("validate ≤ 1 s at 100k", lab, s(v["wall"]) if v else "failed", "≤ 1 s", status(v and v["wall"] <= 1)
                         if v else "**NOT MEASURED**"))
        n = ok(c, "plan-noop")
        if n and n["named_cpu"] > 0:
            r = n["wall"] / n["named_cpu"]
            rows.append(("no-op plan wall ≤ 2× named CPU for the reads", lab,
                         f"{s(n['wall'])} / {s(n['named_cpu'])} = {r:.2f}× (kmsdns CPU {n['cpu'] / n['named_cpu']:.2f}×)",
                         "≤ 2×", status(r <= 2)))
        elif c.get("bind_limit") or not n:
            rows.append(("no-op plan wall ≤ 2× named CPU for the reads", lab, c.get("bind_limit") or "no-op plan failed",
                         "≤ 2×", "**NOT MEASURED**"))
        f, ap = floor(c), ok(c, "apply")
        if f and ap:
            txt = f"{s(ap['wall'])} / {s(f)} = {ap['wall'] / f:.2f}×"
            b = c["peers"].get("nsupdate batched")
            if b and b["ok"] and b["wall"] < f:
                txt += f" (one batched nsupdate was faster still: {s(b['wall'])}, {ap['wall'] / b['wall']:.2f}×)"
            rows.append(("apply ≤ 1.1× floor", lab, txt, "≤ 1.1×", status(ap["wall"] <= 1.1 * f)))
        limit = {10000: 30, 100000: 150}.get(c["domains"])
        if limit:
            got = [(c["kmsdns"][k]["rss_mib"], k) for k, _ in STEPS if ok(c, k)]
            missing = [k for k, _ in STEPS if not ok(c, k)]
            if got:
                top = max(got)
                txt = f"max {mib(top[0])} ({top[1]}); " + ", ".join(f"{k} {x:.0f}" for x, k in got)
                if missing:
                    txt += f"; not measured: {', '.join(missing)}"
                rows.append((f"peak RSS ≤ {limit} MiB", lab, txt, f"≤ {limit} MiB", status(top[0] <= limit and not missing)
                             if not missing or top[0] > limit else "**NOT MEASURED** (partly)"))
    order = ["validate", "no-op", "apply", "peak RSS"]
    rows.sort(key=lambda r: next((i for i, k in enumerate(order) if r[0].startswith(k)), len(order)))  # stable
    for kind, step, a, b, ratio in linearity(run):
        if ratio is not None and a >= 1000 and b <= 100000 and b == 10 * a:
            rows.append((f"linear: {step} ×10 work ≤ ×12 time", f"{kind} {a:,} → {b:,}", f"×{ratio:.1f}", "≤ ×12",
                         status(ratio <= 12)))
    return rows


def linearity(run):
    """(kind, step, size a, size b, wall(b)/wall(a)) for consecutive sizes of each shape."""
    out = []
    for kind in ("flat", "deep"):
        cs = sorted((c for c in run["cases"] if c["kind"] == kind), key=lambda c: c["domains"])
        for x, y in zip(cs, cs[1:]):
            for step, _ in STEPS:
                a, b = ok(x, step), ok(y, step)
                out.append((kind, step, x["domains"], y["domains"], b["wall"] / a["wall"] if a and b and a["wall"] > 0 else None))
    return out


def busy(d):
    """(client + named CPU) ÷ wall: near the core count means CPU-bound; far below, waiting."""
    return f"{(d['cpu'] + d['named_cpu']) / d['wall']:.2f}" if d["wall"] > 0 else "–"


def kmsdns_table(run):
    t = ["| shape | domains | step | wall | kmsdns CPU (user+sys) | peak RSS | named CPU meanwhile | CPU ÷ wall | notes |",
         "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for c in run["cases"]:
        for step, name in STEPS:
            d = c["kmsdns"].get(step)
            if not d:
                continue
            notes = [] if d["ok"] else [f"FAILED: {d['note']}"]
            if d.get("runs", 1) > 1:
                notes.append(f"median of {d['runs']} ({s(d['spread'][0])}–{s(d['spread'][1])})")
            if d.get("verified"):
                notes.append(d["verified"])
            t.append(f"| {label(c)} | {c['domains']:,} | {name} | {s(d['wall'])} | {s(d['cpu'])} | {mib(d['rss_mib'])} | "
                     f"{s(d['named_cpu'])} | {busy(d)} | {esc('; '.join(notes))} |")
    return t


def peer_table(run):
    t = ["| shape | domains | tool | wall | ÷ floor | client CPU | client peak RSS | named CPU | result |",
         "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for c in run["cases"]:
        if not c["peers"]:
            continue
        f = floor(c)
        rows = [("kmsdns `apply --yes`", c["kmsdns"].get("apply"))]
        rows += [(f"`nsupdate -k`, {k.split('x')[1]} processes" if "x" in k else k, c["peers"].get(k))
                 for k in ("nsupdate x4", "nsupdate x8")]
        rows += [("`nsupdate -k`, one batched process", c["peers"].get("nsupdate batched")),
                 ("octoDNS `octodns-sync --doit`", c["peers"].get("octoDNS --doit"))]
        for name, d in rows:
            if not d:
                continue
            ratio = f"{d['wall'] / f:.2f}×" if f and d["ok"] else "–"
            res = d.get("verified", "") if d["ok"] else f"FAILED: {d['note']}"
            t.append(f"| {label(c)} | {c['domains']:,} | {name} | {s(d['wall'])} | {ratio} | {s(d['cpu'])} | "
                     f"{mib(d['rss_mib'])} | {s(d['named_cpu'])} | {esc(res)} |")
    return t


def noop_table(run):
    t = ["| shape | domains | tool | wall | client CPU | client peak RSS | named CPU | wall ÷ named CPU |",
         "|---|---:|---|---:|---:|---:|---:|---:|"]
    for c in run["cases"]:
        for name, d in (("kmsdns `plan` (no-op)", c["kmsdns"].get("plan-noop")), ("octoDNS `octodns-sync` (no-op)",
                                                                                   c["peers"].get("octoDNS no-op"))):
            if d and d["ok"]:
                r = f"{d['wall'] / d['named_cpu']:.2f}×" if d["named_cpu"] > 0 else "–"
                t.append(f"| {label(c)} | {c['domains']:,} | {name} | {s(d['wall'])} | {s(d['cpu'])} | {mib(d['rss_mib'])} | "
                         f"{s(d['named_cpu'])} | {r} |")
    return t


def bind_table(run):
    t = ["| shape | zones | named start to \"running\" | named CPU to load | named RSS after load |", "|---|---:|---:|---:|---:|"]
    lims = []
    for c in run["cases"]:
        b = c.get("bind")
        if b:
            t.append(f"| {label(c)} | {c['zones']:,} | {s(b['load_wall'])} | {s(b['load_cpu'])} | {mib(b['rss_mib'])} |")
        if c.get("bind_limit"):
            lims.append(f"- {label(c)}: BIND could not hold this shape ({c['bind_limit']}); its kmsdns steps other "
                        "than `validate` and its peers were skipped.")
    return t + ([""] + lims if lims else [])


def profile_section(run):
    p = run.get("profile")
    if not p:
        return ["Not run (`--no-profile`, `--quick`, or no flat shape converged). The lead fills this in from",
                "`valgrind --tool=callgrind kmsdns plan` on a converged 1,000-zone lab, or `perf record`."]
    if "note" in p:
        return [f"Not run: {p['note']}."]
    out = [f"`valgrind --tool=callgrind kmsdns plan --detailed-exitcode` (no-op) at {p['shape']} ({p['domains']:,} domains),",
           "`callgrind_annotate`; share of all instructions (Ir), release build (symbols, no debug info). Top 10 inclusive",
           "(the function and everything it calls; process, thread and tokio runtime frames left out) and top 10 self",
           "(own instructions only):", "",
           "| inclusive | function | self | function |", "|---:|---|---:|---|"]
    def rows(mode):
        if f"{mode}_raw" in p:
            return parse_callgrind(p[f"{mode}_raw"])
        return [r for r in p.get(mode, []) if not BOILERPLATE.search(r[1])]

    inc, own = rows("inclusive"), rows("self")
    def cells(rows, i):
        return f"{rows[i][0]:.1f} % | `{rows[i][1]}`" if i < len(rows) else " | "

    for i in range(max(len(inc), len(own))):
        out.append(f"| {cells(inc, i)} | {cells(own, i)} |")
    if p.get("remark"):
        out += ["", p["remark"]]
    return out


def history_line(run):
    m, parts = run["meta"], []
    for c in run["cases"]:
        bits = []
        for step, short in (("validate", "validate"), ("apply", "apply"), ("plan-noop", "no-op plan")):
            d = ok(c, step)
            if d:
                bits.append(f"{short} {s(d['wall'])}")
        f = floor(c)
        if f:
            bits.append(f"floor {s(f)}")
        rss = [c["kmsdns"][k]["rss_mib"] for k, _ in STEPS if ok(c, k)]
        if rss:
            bits.append(f"peak RSS {max(rss):.0f} MiB")
        if c.get("bind_limit"):
            bits.append("BIND limit")
        parts.append(f"{label(c)}: " + ", ".join(bits))
    return (f"- {m['id']}, {m['kmsdns']} ({m['commit']}), load {' '.join(m['load_start'])}: " + "; ".join(parts)
            + f" <!-- run:{m['id']} -->")


def markdown(run, old):
    m = run["meta"]
    peers = m["peers"]
    g = goals(run)
    bind = re.sub(r"^BIND |\s*<id:[^>]*>", "", m["bind"])
    met = sum("**MET**" in r[4] for r in g)
    doc = [
        "# Benchmarks", "",
        f"Written by `{m['command']}` on {m['id'].replace('T', ' ').replace('Z', ' UTC')} "
        f"(took {m.get('duration_s', 0) / 60:.1f} min). Rerun it to refresh this file; bench/README.md and README's",
        "\"Benchmarks\" section say what it does. Timing goals live here, never in tests.", "",
        "## Machine and versions", "",
        f"- {m['cpu']}, {m['cores']} cores, {m['mem_gib']:.0f} GiB; {m['os']}",
        f"- load average (1, 5, 15 min) at the start: {' '.join(m['load_start'])}, at the end: {' '.join(m.get('load_end', ['?']))}"
        " — other work on the machine makes these numbers noisy",
        f"- {m['kmsdns']} (`{m['kmsdns_path']}`; bench/ at commit {m['commit']}); BIND {bind}; "
        f"{m['dig']}; Python {m['python']}"
        + (f"; octoDNS {peers.get('octodns')}, octodns-bind {peers.get('octodns-bind')}, dnspython {peers.get('dnspython')}"
           if peers else "; octoDNS not run"),
        "- workload: each domain gets `_vlmcs._tcp.<domain>. SRV 0 0 1688 kms1.corp.example.com.` and `SRV 10 0 1688",
        "  kms2.corp.example.com.` (TTL 3600); shapes N zones × 1 domain and N/100 zones × 100 domains; every message",
        "  TSIG-signed (hmac-sha256, key made by tsig-keygen for the run); one named on 127.0.0.1, each zone with",
        "  `update-policy { grant kms-update zonesub SRV; }` and `allow-transfer { key kms-update; }`, its files on",
        f"  {m.get('lab_dir', 'a temp dir')} (tmpfs unless `--lab-dir` says otherwise: journal fsyncs cost no disk time)",
        f"- `validate` and the no-op `plan` are the median of {m['repeat']} runs up to {m['repeat_upto']:,} domains, single",
        "  runs above; everything else runs once. Wall clock from start to exit; peak RSS and user+sys CPU from GNU time",
        "  (`%M %U %S`); named CPU = utime+stime from /proc/<named pid>/stat, read before and after the step.",
        "",
        f"## Goals (issue 13): {met} of {len(g)} met", "",
        "| goal | case | measured | target | status |", "|---|---|---|---|---|",
        *[f"| {a} | {b} | {esc(c)} | {d} | {e} |" for a, b, c, d, e in g],
        "",
        "The no-op plan goal is read as wall time of `kmsdns plan` divided by the CPU named spent answering its",
        "signed reads meanwhile (the issue's \"≤ 2× BIND's CPU for the reads\"); kmsdns's own CPU ÷ named CPU is",
        "shown beside it. The floor is the faster of 4 and 8 parallel `nsupdate -k` processes sending the same",
        "UPDATEs (one per zone, adds only, no reads, no prerequisites, no read-back) to identical fresh zones.",
        "Linearity compares wall times of the same step and shape at 10× the domains.", "",
        "## kmsdns", "", *kmsdns_table(run), "",
        "CPU ÷ wall is (kmsdns CPU + named CPU) ÷ wall time: close to the number of cores means the two are",
        "CPU-bound (and named CPU ≈ wall means BIND is the limit); far below 1 means time spent waiting.",
        "`plan` (all to add) runs on the empty zones and must exit 2; `apply --yes` must exit 0 and its result is",
        "read back by AXFR with dig and compared record by record; the no-op `plan` must exit 0 (no changes).", "",
        "## Apply against the peers", "",
        "Each tool starts from identical fresh zones (named restarted from the same zone files) and each result",
        "is checked by AXFR with dig: exactly the expected SRV records.", "",
        *peer_table(run), "",
        "## No-op against octoDNS", "", *noop_table(run), "",
        "kmsdns reads only the managed RRsets, one signed query each; octoDNS (`max_workers: 1`, its default)",
        "reads each zone whole by a signed AXFR, one zone after the other. Its YAML lists the lab's `ns1 A` too,",
        "since octoDNS owns every name in a zone it syncs.", "",
        "## BIND", "", *bind_table(run), "",
        "## Linearity (wall time at 10× the domains ÷ wall time)", "",
        "| shape | step | sizes | ratio |", "|---|---|---|---:|",
        *[f"| {k} | {st} | {a:,} → {b:,} | {'–' if r is None else f'×{r:.1f}'} |" for k, st, a, b, r in linearity(run)],
        "",
        "## Profile", "", *profile_section(run), "",
    ]
    hist = SEED_HISTORY
    if f"\n{HISTORY}\n" in old:
        hist = old.split(f"\n{HISTORY}\n", 1)[1].strip("\n") + "\n"
    lines = [x for x in hist.splitlines() if f"<!-- run:{m['id']} -->" not in x]
    new = history_line(run)
    at = next((i for i, x in enumerate(lines) if x.startswith("- ")), len(lines))
    lines.insert(at, new)
    return "\n".join(doc + [HISTORY, ""] + lines) + "\n"
