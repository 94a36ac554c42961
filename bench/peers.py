"""The peers kmsdns is measured against, on the same fresh zones: nsupdate (the floor and one
batched run) and octoDNS + octodns-bind from a pinned venv."""

import re
import subprocess
import sys
from pathlib import Path

from lab import KEY_NAME, TARGETS, TTL, run_group

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"


def nsupdate_scripts(lab, parts):
    """The updates kmsdns makes, as `parts` nsupdate scripts splitting the zones evenly (one
    UPDATE per zone, adds only: no reads, no prerequisites). Returns the script paths."""
    zones = lab.shape.zones
    parts = max(1, min(parts, zones))
    paths = []
    for p in range(parts):
        lines = [f"server 127.0.0.1 {lab.port}"]
        for i in range(p * zones // parts, (p + 1) * zones // parts):
            zone = lab.shape.zone(i)
            lines.append(f"zone {zone}")
            for d in range(lab.shape.per_zone):
                owner = f"_vlmcs._tcp.{lab.shape.domain(i, d)}."
                lines += [f"update add {owner} {TTL} SRV {prio} 0 1688 {target}" for prio, target in TARGETS]
            lines.append("send")
        path = lab.root / f"nsupdate.{parts}.{p}.txt"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def run_nsupdate(lab, parts, timeout, attempt=1):
    """`parts` nsupdate -k processes at once, each sending its share of the zones."""
    scripts = nsupdate_scripts(lab, parts)
    cmds = [["nsupdate", "-k", str(lab.key)] for _ in scripts]
    return run_group(cmds, lab.root, f"nsupdate-{parts}.try{attempt}", named=lab.named, timeout=timeout, stdin_files=scripts)


def venv_ready(venv):
    """Creates `venv` from bench/requirements.txt unless it already holds exactly those pins.
    Returns (octodns-sync path, {package: version})."""
    py = venv / "bin" / "python"
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, ver = line.split("==")
            pins[name.lower().replace("_", "-")] = ver

    def installed():
        if not py.exists():
            return {}
        out = subprocess.run([str(py), "-m", "pip", "freeze", "--disable-pip-version-check"], capture_output=True, text=True).stdout
        return {n.lower().replace("_", "-"): v for n, v in (x.split("==", 1) for x in out.splitlines() if "==" in x)}

    have = installed()
    if any(have.get(n) != v for n, v in pins.items()):
        print(f"bench: installing bench/requirements.txt into {venv}", file=sys.stderr)
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
                       check=True)
        have = installed()
    return venv / "bin" / "octodns-sync", {n: have.get(n, "?") for n in ("octodns", "octodns-bind", "dnspython")}


def octodns_config(lab):
    """octoDNS config with a YamlProvider directory holding, per zone, the same SRV records
    kmsdns is asked for. Each YAML also lists the lab's `ns1 A 127.0.0.1`: octoDNS owns every
    non-apex name of a zone it syncs and would otherwise delete it (which the lab's
    update-policy refuses, failing the whole UPDATE). The apex NS it leaves alone."""
    ydir = lab.root / "octodns"
    ydir.mkdir(exist_ok=True)
    shape = lab.shape
    for i in range(shape.zones):
        y = ["---"]
        for d in range(shape.per_zone):  # in sorted order: YamlProvider enforces it
            y += [f"_vlmcs._tcp.d{d:02d}:", f"  ttl: {TTL}", "  type: SRV", "  values:"]
            for prio, target in TARGETS:
                y += ["  - port: 1688", f"    priority: {prio}", f"    target: {target}", "    weight: 0"]
        y += ["ns1:", "  ttl: 300", "  type: A", "  value: 127.0.0.1"]
        (ydir / f"{shape.zone(i)}.yaml").write_text("\n".join(y) + "\n")
    c = ["---", "providers:",
         "  config:", "    class: octodns.provider.yaml.YamlProvider", f"    directory: {ydir}",
         "  lab:", "    class: octodns_bind.Rfc2136Provider", "    host: 127.0.0.1", f"    port: {lab.port}",
         f"    key_name: {KEY_NAME}", f"    key_secret: {lab.secret}", "    key_algorithm: hmac-sha256",
         "zones:"]
    for i in range(shape.zones):
        c += [f"  {shape.zone(i)}.:", "    sources: [config]", "    targets: [lab]"]
    path = lab.root / "octodns.yaml"
    path.write_text("\n".join(c) + "\n")
    path.chmod(0o600)  # holds the secret
    return path


def octodns_creates(m):
    """Adds up octoDNS's per-zone "Summary: Creates=…" lines from its stdout."""
    total = 0
    text = m.stdout.read_text(errors="replace") if m.stdout and m.stdout.exists() else ""
    for hit in re.finditer(r"Summary: Creates=(\d+), Updates=(\d+), Deletes=(\d+)", text):
        total += sum(int(x) for x in hit.groups())
    return total


def run_octodns(lab, sync, cfg, doit, timeout):
    """One `octodns-sync` over every zone (`--doit` applies); returns (Measured, changes planned)."""
    cmd = [str(sync), "--config-file", str(cfg), "--log-stream-stdout"] + (["--doit"] if doit else [])
    m = run_group([cmd], lab.root, "octodns-doit" if doit else "octodns-noop", named=lab.named, timeout=timeout)
    return m, octodns_creates(m)
