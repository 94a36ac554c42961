"""The benchmark lab: a private BIND on 127.0.0.1 with Z empty zones, a TSIG key, and a timer.

Everything here talks only to 127.0.0.1 and lives in one temp dir that run.py removes.
"""

import os
import re
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
GNU_TIME = "/usr/bin/time"
KEY_NAME = "kms-update"
# The two KMS hosts every domain gets, as (priority, target); kmsdns's [[hosts]] say the same.
TARGETS = [(0, "kms1.corp.example.com."), (10, "kms2.corp.example.com.")]
TTL = 3600
ZONE_BODY = "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n"


@dataclass(frozen=True)
class Shape:
    """zones x per_zone domains; each domain gets `_vlmcs._tcp.<domain>` SRV x len(TARGETS)."""

    zones: int
    per_zone: int

    @property
    def domains(self):
        return self.zones * self.per_zone

    @property
    def label(self):
        return f"{self.zones:,} zones x {self.per_zone}"

    def zone(self, i):
        return f"z{i:0{max(3, len(str(self.zones - 1)))}d}.example"

    def domain(self, i, d):
        return f"d{d:02d}.{self.zone(i)}"

    def owners(self):
        """(zone, owner FQDN) for every managed RRset, zone by zone."""
        for i in range(self.zones):
            for d in range(self.per_zone):
                yield self.zone(i), f"_vlmcs._tcp.{self.domain(i, d)}."


@dataclass
class Measured:
    """One process (or a group run in parallel): wall seconds, peak RSS MiB (largest of the
    group), user+sys CPU seconds (summed), exit code (first non-zero), named's CPU meanwhile."""

    wall: float
    rss_mib: float
    cpu: float
    code: int
    named_cpu: float = 0.0
    stdout: Path = None
    stderr: Path = None
    note: str = ""

    def tail(self, n=6):
        """The last lines of stderr (then stdout) for a failure message."""
        for p in (self.stderr, self.stdout):
            if p and p.exists():
                lines = [x for x in p.read_text(errors="replace").splitlines() if x.strip()]
                if lines:
                    return " | ".join(lines[-n:])[-600:]
        return ""


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP."""
    while True:
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            pass
        finally:
            u.close()
            t.close()


def clean_env():
    """The environment for measured processes: no colour, no kmsdns/RUST variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMSDNS_", "RUST_"))}
    env["NO_COLOR"] = "1"
    return env


def _time_file(path):
    """Parses GNU time's `-f "%M %U %S"` output (its last line; earlier lines may say
    "Command exited with non-zero status N" or "Command terminated by signal N")."""
    try:
        lines = [x for x in Path(path).read_text().splitlines() if x.strip()]
        kib, user, sys_ = lines[-1].split()
        return int(kib) / 1024.0, float(user) + float(sys_)
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0


def run_group(cmds, workdir, tag, named=None, timeout=1800, stdin_files=None, env=None):
    """Runs every command in `cmds` at once, each under GNU time; waits for all.

    Wall clock runs from the first start to the last exit. stdout/stderr go to files in
    workdir (`tag`.N.out/.err). A group still running after `timeout` seconds is killed and
    reported with code -9 and note "timeout"."""
    env = env or clean_env()
    stdin_files = stdin_files or [None] * len(cmds)
    before = named.cpu() if named else 0.0
    procs = []
    start = time.perf_counter()
    for n, (cmd, sin) in enumerate(zip(cmds, stdin_files)):
        tf = workdir / f"{tag}.{n}.time"
        out, err = workdir / f"{tag}.{n}.out", workdir / f"{tag}.{n}.err"
        full = [GNU_TIME, "-f", "%M %U %S", "-o", str(tf), "--", *cmd]
        with open(out, "wb") as o, open(err, "wb") as e, open(sin or os.devnull, "rb") as i:
            procs.append((subprocess.Popen(full, stdin=i, stdout=o, stderr=e, env=env, start_new_session=True), tf, out, err))
    note = ""
    deadline = start + timeout

    def kill_all():
        for q, *_ in procs:
            if q.poll() is None:
                os.killpg(q.pid, signal.SIGKILL)  # their own session: only what this group started
        for q, *_ in procs:
            q.wait()

    try:
        for p, *_ in procs:
            p.wait(timeout=max(0.1, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        note = "timeout"
        kill_all()
    except BaseException:  # Ctrl-C or SIGTERM: leave nothing running
        kill_all()
        raise
    wall = time.perf_counter() - start
    after = named.cpu() if named else 0.0
    rss, cpu, code, shown = 0.0, 0.0, 0, procs[0]
    for p, tf, out, err in procs:
        r, c = _time_file(tf)
        rss, cpu = max(rss, r), cpu + c
        if code == 0 and p.returncode != 0:
            code, shown = p.returncode, (p, tf, out, err)  # its output explains the failure
    return Measured(wall, rss, cpu, -9 if note else code, after - before, shown[2], shown[3], note)


class Named:
    """A running named: its process, load time and memory; cpu() is utime+stime so far."""

    def __init__(self, proc, log):
        self.proc, self.log = proc, log
        self.load_wall = self.load_cpu = self.load_rss_mib = 0.0

    def cpu(self):
        """named's user+system CPU seconds so far (all threads), from /proc/<pid>/stat."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)

    def rss_mib(self, key="VmRSS"):
        m = re.search(rf"^{key}:\s+(\d+) kB", Path(f"/proc/{self.proc.pid}/status").read_text(), re.M)
        return int(m.group(1)) / 1024.0 if m else 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()  # nothing to save: every start rewrites the zone files
        self.proc.wait()


class BindLimit(Exception):
    """named could not load the zones within the time or memory allowed."""


class Lab:
    """A temp dir with the TSIG key, the zone files and named.conf for one shape."""

    def __init__(self, root, shape):
        self.root, self.shape = Path(root), shape
        self.zdir = self.root / "zones"
        self.zdir.mkdir(parents=True)
        self.key = self.root / f"{KEY_NAME}.key"
        with open(self.key, "wb") as f:  # created 0600 before the secret is written
            os.fchmod(f.fileno(), 0o600)
            f.write(subprocess.run(["tsig-keygen", "-a", "hmac-sha256", KEY_NAME], capture_output=True, check=True).stdout)
        self.secret = re.search(r'secret "([^"]+)"', self.key.read_text()).group(1)
        self.port = None
        self.named = None

    def _write_zones(self):
        """Fresh zone files and named.conf; journals of an earlier start removed."""
        for j in self.zdir.glob("*.jnl"):
            j.unlink()
        r = self.root
        conf = [
            f'include "{self.key}";',
            "options {",
            f'  directory "{r}"; pid-file none; session-keyfile "{r}/session.key"; managed-keys-directory "{r}";',
            f"  listen-on port {self.port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};",
            f"  recursion no; notify no; dnssec-validation no; allow-transfer {{ key {KEY_NAME}; }};",
            "};",
            "controls { };",
        ]
        # One grant per zone, whatever its number of domains: the key may change SRV records
        # at and below the apex (what `kmsdns render named-conf` narrows to exact names).
        for i in range(self.shape.zones):
            z = self.shape.zone(i)
            (self.zdir / f"{z}.db").write_text(ZONE_BODY)
            conf.append(f'zone "{z}" {{ type primary; file "zones/{z}.db"; update-policy {{ grant {KEY_NAME} zonesub SRV; }}; }};')
        (r / "named.conf").write_text("\n".join(conf) + "\n")

    def start(self, timeout, max_rss_mib):
        """Starts named on a new free port from fresh zone files; waits for "running".

        Raises BindLimit (named killed) when it is not running within `timeout` seconds or its
        RSS passes max_rss_mib, saying how many zones it had loaded."""
        self.stop()
        self.port = free_port()
        self._write_zones()
        log = self.root / "named.log"
        args = ["named", "-g", "-4", "-c", str(self.root / "named.conf")]
        if os.geteuid() == 0:
            args[1:1] = ["-u", "root"]
        start = time.perf_counter()
        with open(log, "wb") as lf:
            proc = subprocess.Popen(args, stdout=lf, stderr=subprocess.STDOUT, start_new_session=True)
        named = Named(proc, log)
        why = None
        while True:
            time.sleep(0.1)
            text = log.read_text(errors="replace")
            if re.search(r" running$", text, re.M):
                break
            if proc.poll() is not None:
                why = f"named exited with {proc.returncode}: " + " | ".join(text.splitlines()[-3:])
            elif time.perf_counter() - start > timeout:
                why = f"not running after {timeout:.0f} s"
            elif named.rss_mib() > max_rss_mib:
                why = f"RSS passed {max_rss_mib:.0f} MiB"
            if why:
                loaded = len(re.findall(r"loaded serial", text))
                rss = named.rss_mib() if proc.poll() is None else 0.0
                named.stop()
                raise BindLimit(f"{why}; {loaded:,} of {self.shape.zones:,} zones loaded after "
                                f"{time.perf_counter() - start:.0f} s, named RSS {rss:.0f} MiB")
        named.load_wall = time.perf_counter() - start
        named.load_cpu = named.cpu()
        named.load_rss_mib = named.rss_mib()
        self.named = named
        return named

    def stop(self):
        if self.named:
            self.named.stop()
            self.named = None

    def verify(self, want_srv, batch=400):
        """Reads every zone by AXFR with the key (dig, `batch` zones per process) and checks
        that the SRV records are exactly the expected ones (every owner x TARGETS) or, with
        want_srv False, that there are none. Returns (ok, message)."""
        zones = [self.shape.zone(i) for i in range(self.shape.zones)]
        got, soas, problems = set(), 0, []

        def dig(chunk):
            cmd = ["dig", "-k", str(self.key), "@127.0.0.1", "-p", str(self.port), "+nocmd", "+nostats",
                   "+nocomments", "+noquestion"]
            for z in chunk:
                cmd += [z, "AXFR"]
            return subprocess.run(cmd, capture_output=True, text=True).stdout

        chunks = [zones[k:k + batch] for k in range(0, len(zones), batch)]
        with ThreadPoolExecutor(max_workers=4) as pool:  # not timed: only the result counts
            outputs = list(pool.map(dig, chunks))
        for text in outputs:
            for line in text.splitlines():
                f = line.split()
                if len(f) < 4 or line.startswith(";"):
                    if "failed" in line.lower():
                        problems.append(line.strip())
                    continue
                if f[3] == "SOA":
                    soas += 1
                elif f[3] == "SRV":
                    got.add((f[0].lower(), int(f[1]), int(f[4]), int(f[5]), int(f[6]), f[7].lower()))
        want = set()
        if want_srv:
            for _, owner in self.shape.owners():
                for prio, target in TARGETS:
                    want.add((owner, TTL, prio, 0, 1688, target))
        if soas != 2 * len(zones) or problems:
            return False, f"AXFR incomplete: {soas // 2:,} of {len(zones):,} zones transferred; {'; '.join(problems[:3])}"
        if got != want:
            missing, extra = len(want - got), len(got - want)
            return False, f"SRV records differ: {len(got):,} found, {len(want):,} expected ({missing:,} missing, {extra:,} unexpected)"
        return True, f"{len(got):,} SRV records in {len(zones):,} zones, as expected (dig AXFR)"
