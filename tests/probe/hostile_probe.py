#!/usr/bin/env python3
"""Hostile input probe for etcd-warden (issue 18, "Hostile input").

Throws hostile input at a built etcd-warden binary and counts what goes wrong:

  1. configs    mutated configs (the shipped config/config.yaml and a small
                full one) through `check-config`: crashes, hangs, secrets in
                the output, errors without a position.
  2. snapshots  mutated etcd snapshots (plain and zstd) through
                `snapshot verify`: crashes, hangs, mutants that verify.
  3. sidecars   a snapshot dir written by the warden itself, one sidecar or
                snapshot file mutated per case, through `snapshot list` and
                `restore-plan`: crashes, hangs, mutants shown as verified.
  4. dbus       the daemon on a private bus; every method with odd arguments,
                200 calls at once: the daemon must answer each within 5 s
                and still be running at the end.
  5. etcd-down-and-secrets
                the daemon against a closed port (must stay up and say so),
                then against etcd with auth (right and wrong password):
                no password anywhere in its output, snapshots mode 0600.

It starts its own throwaway etcd (from --etcd-bin-dir) and dbus-daemon, all
on 127.0.0.1, on free ports in 42000-42999; every subprocess has a timeout
(exceeding it is a hang, and the process group is killed). Everything lives in
one mkdtemp directory that is removed at the end. Each failing input
(config, snapshot, sidecar) is saved with the binary's output under --keep.

Run from the repository root (Python 3 standard library only):

    tests/probe/hostile_probe.py --binary build/etcd-warden
    tests/probe/hostile_probe.py --binary build/etcd-warden --cases 200 --seed 7
    tests/probe/hostile_probe.py --binary build/etcd-warden --parts configs,dbus

It ends with a summary table, one row per part. Exit status: 0 when every
count is zero, 1 when any count is not, 2 when the probe itself could not run
a part (a setup step failed), 3 when the binary changed during the run.
"""

from __future__ import annotations

import argparse
import calendar
import collections
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

SECRET_MARK = b"PROBE-SECRET"  # every secret below starts with it
SECRET_URL = b"https://root:PROBE-SECRET-1@127.0.0.1:2379"  # credentials in a URL
SECRET_PASSWORD_FILE = "PROBE-SECRET-2"  # content of the config part's password file
SECRET_KEY_FILE = "PROBE-SECRET-KEY"  # content of the config part's TLS key file
SECRET_ETCD = "PROBE-SECRET-3"  # etcd's root password in part 5
SECRET_WRONG = "PROBE-SECRET-4"  # a wrong password in part 5

PORT_RANGE = (42000, 42999)
BUS_NAME = "io.etcdwarden.Warden1"
OBJ_PATH = "/io/etcdwarden/Warden1"
JOBS = ["status", "snapshot", "compact", "defrag", "alarms", "tuning"]  # the daemon's own list wins

CHECK_CONFIG_TIMEOUT = 10.0
MANY_KEYS_TIMEOUT = 5.0
VERIFY_TIMEOUT = 10.0
LIST_TIMEOUT = 10.0
PLAN_TIMEOUT = 20.0
DBUS_ANSWER_TIMEOUT = 5  # seconds a D-Bus call may take
CTL_TIMEOUT = 10.0

PARTS = ["configs", "snapshots", "sidecars", "dbus", "etcd-down-and-secrets"]
COLUMNS = ["cases", "crashes", "hangs", "false-verified", "secrets-leaked", "unpositioned-errors"]
# Which columns apply to which part ("-" in the table otherwise).
APPLIES = {
    "configs": {"crashes", "hangs", "secrets-leaked", "unpositioned-errors"},
    "snapshots": {"crashes", "hangs", "false-verified"},
    "sidecars": {"crashes", "hangs", "false-verified"},
    "dbus": {"crashes", "hangs"},
    "etcd-down-and-secrets": {"crashes", "hangs", "secrets-leaked"},
}


class ProbeError(Exception):
    """A setup step failed: the part could not be run."""


class BinaryChanged(Exception):
    """The binary under test was rebuilt during the run."""


# --------------------------------------------------------------------------
# Helpers: processes, ports, polling, findings
# --------------------------------------------------------------------------


@dataclass
class Run:
    cmd: list
    rc: int
    out: bytes
    err: bytes
    elapsed: float
    hung: bool
    timeout: float

    @property
    def crashed(self) -> bool:
        # Killed by a signal (negative rc from subprocess) or a shell-style 128+N.
        return not self.hung and (self.rc < 0 or self.rc >= 128)

    @property
    def output(self) -> bytes:
        return self.out + self.err

    def describe(self) -> str:
        how = f"hung (killed after {self.timeout:g}s)" if self.hung else f"rc={self.rc}"
        if self.rc < 0 and not self.hung:
            how += f" ({signal.Signals(-self.rc).name})"
        return f"{how}, {self.elapsed:.2f}s"


@dataclass
class Tally:
    part: str
    counts: dict = field(default_factory=lambda: {c: 0 for c in COLUMNS})
    error: str = ""
    notes: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, column: str, n: int = 1) -> None:
        with self.lock:
            self.counts[column] += n

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)

    def failing(self) -> bool:
        return any(self.counts[c] for c in APPLIES[self.part]) or bool(self.error)


def to_bytes(x) -> bytes:
    if isinstance(x, bytes):
        return x
    if isinstance(x, Path):
        return x.read_bytes()
    return str(x).encode()


class Probe:
    """Shared state: temp root, started processes, ports, the findings dir."""

    KEEP_MARKER = ".hostile-probe-findings"

    def __init__(self, args):
        self.args = args
        self.binary = str(Path(args.binary).resolve())
        self.etcd_bin = Path(args.etcd_bin_dir)
        self.seed = args.seed
        self.root = Path(tempfile.mkdtemp(prefix="hostile-probe-"))
        self.keep_dir = Path(args.keep)
        self.procs: list[subprocess.Popen] = []
        self.ports: set[int] = set()
        self.port_lock = threading.Lock()
        self.port_rng = random.Random()  # not seeded: ports depend on what is free
        self.kept = 0
        self.keep_lock = threading.Lock()
        (self.root / "home").mkdir()
        self.env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "TMPDIR": str(self.root),
        }
        st = os.stat(self.binary)
        self.binary_id = (st.st_ino, st.st_size, st.st_mtime_ns)

    # ---- binary --------------------------------------------------------

    def check_binary(self) -> None:
        try:
            st = os.stat(self.binary)
        except FileNotFoundError as e:
            raise BinaryChanged(f"{self.binary} disappeared") from e
        if (st.st_ino, st.st_size, st.st_mtime_ns) != self.binary_id:
            raise BinaryChanged(f"{self.binary} was rebuilt during the run")

    def warden(self, *args) -> list:
        return [self.binary, *map(str, args)]

    # ---- processes -------------------------------------------------------

    def run(self, cmd, timeout: float, env=None, input: bytes | None = None, cwd=None) -> Run:
        """Runs cmd in its own process group; a timeout kills the group (a hang)."""
        start = time.monotonic()
        p = subprocess.Popen(
            [str(c) for c in cmd],
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else self.env,
            cwd=cwd,
            start_new_session=True,
        )
        hung = False
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            hung = True
            self._killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        self._killpg(p.pid, signal.SIGKILL)  # anything it left behind
        return Run(list(map(str, cmd)), p.returncode, out, err, time.monotonic() - start, hung, timeout)

    def spawn(self, cmd, log: Path, env=None) -> subprocess.Popen:
        """Starts a long-running process in its own group, output into `log`."""
        with open(log, "ab") as f:
            p = subprocess.Popen(
                [str(c) for c in cmd],
                stdin=subprocess.DEVNULL,
                stdout=f,
                stderr=subprocess.STDOUT,
                env=env if env is not None else self.env,
                start_new_session=True,
            )
        self.procs.append(p)
        return p

    def spawn_piped(self, cmd, env=None) -> subprocess.Popen:
        p = subprocess.Popen(
            [str(c) for c in cmd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env if env is not None else self.env,
            start_new_session=True,
        )
        self.procs.append(p)
        return p

    @staticmethod
    def _killpg(pid: int, sig) -> None:
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, p: subprocess.Popen, grace: float = 5.0) -> int | None:
        """SIGTERM to the group, SIGKILL after `grace`; returns the exit status."""
        if p.poll() is None:
            self._killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        self._killpg(p.pid, signal.SIGKILL)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def cleanup(self) -> None:
        for p in list(self.procs):
            self.stop(p, grace=3.0)
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- ports -------------------------------------------------------------

    def free_port(self) -> int:
        """A port in 42000-42999 that nothing listens on and we have not handed out."""
        with self.port_lock:
            for _ in range(2000):
                port = self.port_rng.randint(*PORT_RANGE)
                if port in self.ports:
                    continue
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    try:
                        s.bind(("127.0.0.1", port))
                    except OSError:
                        continue
                self.ports.add(port)
                return port
        raise ProbeError("no free port in 42000-42999")

    # ---- files -------------------------------------------------------------

    def mkdir(self, *parts, mode=0o700) -> Path:
        p = self.root.joinpath(*parts)
        p.mkdir(parents=True, exist_ok=True, mode=mode)
        os.chmod(p, mode)
        return p

    def prepare_keep_dir(self) -> None:
        d = self.keep_dir
        if d.exists() and any(d.iterdir()):
            if not (d / self.KEEP_MARKER).exists():
                raise ProbeError(f"--keep {d} is not empty and not a findings dir of this probe")
            for child in d.iterdir():
                if child.name != self.KEEP_MARKER:
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        d.mkdir(parents=True, exist_ok=True)
        (d / self.KEEP_MARKER).write_text("findings of tests/probe/hostile_probe.py; emptied by its next run\n")

    def keep(self, part: str, case: str, files: dict, runs: list, meta: dict) -> Path:
        """Saves a failing case: its inputs, the binary's output, what was wrong."""
        d = self.keep_dir / part / case
        d.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            target = d / name
            if not isinstance(content, Path):
                target.write_bytes(to_bytes(content))
            elif content.is_symlink():
                target.write_text(f"(a symlink to {os.readlink(content)})\n")
            elif not content.exists():
                target.write_text("(does not exist)\n")
            elif _is_special(content):
                target.write_text(f"(a special file in the original: {_kind(content)})\n")
            elif content.is_dir():
                shutil.copytree(content, target, symlinks=True, copy_function=shutil.copy2, dirs_exist_ok=True,
                                ignore=lambda _d, names: [n for n in names if _is_special(Path(_d) / n)])
                for sub in content.iterdir():
                    if _is_special(sub):
                        (target / (sub.name + ".IS-A-" + _kind(sub))).write_text("placeholder\n")
            else:
                shutil.copy2(content, target)
        for i, r in enumerate(runs):
            (d / f"run{i}.stdout").write_bytes(r.out)
            (d / f"run{i}.stderr").write_bytes(r.err)
            meta.setdefault("runs", []).append({"cmd": _short_cmd(r.cmd), "result": r.describe()})
        (d / "meta.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        with self.keep_lock:
            self.kept += 1
        return d


def _is_special(p: Path) -> bool:
    try:
        m = os.lstat(p).st_mode
    except FileNotFoundError:
        return False
    return not (stat.S_ISREG(m) or stat.S_ISDIR(m) or stat.S_ISLNK(m))


def _kind(p: Path) -> str:
    m = os.lstat(p).st_mode
    return "FIFO" if stat.S_ISFIFO(m) else "socket" if stat.S_ISSOCK(m) else "device"


def _short_cmd(cmd: list) -> list:
    return [c if len(c) < 300 else c[:80] + f"...({len(c)} chars)" for c in cmd]


def wait_until(cond, timeout: float, interval: float = 0.1):
    """Polls cond() until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def http_get(port: int, path: str = "/metrics", timeout: float = 3.0):
    """(status, body) from 127.0.0.1:port, or (None, error text)."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, str(e).encode()


def metric_value(body: bytes, name: str, labels: str = "") -> float | None:
    """The value of `name{labels}` in Prometheus text (labels as written, or none)."""
    pat = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else r"(\{[^}]*\})?")
    m = re.search(rb"^" + pat.encode() + rb" (\S+)$", body, re.M)
    return float(m.group(1 if labels else 2)) if m else None


def yaml_quote(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid double-quoted YAML scalar


def find_secrets(data: bytes) -> list:
    return sorted({m.decode() for m in re.findall(re.escape(SECRET_MARK) + rb"[-A-Z0-9]*", data)})


# --------------------------------------------------------------------------
# Throwaway etcd and private D-Bus
# --------------------------------------------------------------------------


class Etcd:
    def __init__(self, pr: Probe):
        self.pr = pr
        self.dir = pr.mkdir("etcd")
        self.data = self.dir / "data"
        self.client_port = pr.free_port()
        self.peer_port = pr.free_port()
        self.url = f"http://127.0.0.1:{self.client_port}"
        self.user: str | None = None
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = self.pr.etcd_bin / "etcd"
        if not os.access(exe, os.X_OK):
            raise ProbeError(f"no etcd at {exe}")
        peer = f"http://127.0.0.1:{self.peer_port}"
        self.proc = self.pr.spawn(
            [exe, "--name", "m1", "--data-dir", self.data,
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"m1={peer}", "--initial-cluster-token", f"probe-{os.getpid()}",
             "--initial-cluster-state", "new"],
            self.dir / "etcd.log")
        wait_until(lambda: self.proc.poll() is not None or self.ctl("endpoint", "health", timeout=5).rc == 0,
                   timeout=30, interval=0.2)
        if self.proc.poll() is not None or self.ctl("endpoint", "health", timeout=5).rc != 0:
            raise ProbeError(f"etcd did not become healthy; see {self.dir / 'etcd.log'}:\n"
                             + (self.dir / "etcd.log").read_text(errors="replace")[-2000:])

    def ctl(self, *args, input: bytes | None = None, timeout: float = 30) -> Run:
        env = dict(self.pr.env, ETCDCTL_API="3")
        cmd = [self.pr.etcd_bin / "etcdctl", "--endpoints", self.url]
        if self.user:
            cmd += ["--user", self.user]
        return self.pr.run(cmd + list(args), timeout=timeout, env=env, input=input)

    def must(self, *args, input: bytes | None = None) -> Run:
        r = self.ctl(*args, input=input)
        if r.rc != 0 or r.hung:
            raise ProbeError(f"etcdctl {' '.join(map(str, args))}: {r.describe()}: {r.err.decode(errors='replace')}")
        return r

    def fill(self, n: int = 2000, batch: int = 100) -> None:
        """n keys through `etcdctl txn`, `batch` puts per transaction (3.4's limit is 128)."""
        for start in range(0, n, batch):
            ops = "".join(f"put /probe/key-{i:05d} value-{i}-{'x' * (i % 300)}\n"
                          for i in range(start, min(n, start + batch)))
            self.must("txn", input=("\n" + ops + "\n\n").encode())

    def put(self, key: str, value: str) -> None:
        self.must("put", key, value)


class Bus:
    """A private dbus-daemon (session configuration) on a socket under the temp dir."""

    def __init__(self, pr: Probe):
        self.pr = pr
        sock = pr.mkdir("bus") / "bus.sock"
        self.proc = pr.spawn_piped(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                                    f"--address=unix:path={sock}"])
        line = b""
        deadline = time.monotonic() + 10
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            line += chunk
        self.address = line.decode().strip()
        if not self.address:
            raise ProbeError("dbus-daemon did not print its address")
        self.env = dict(pr.env, DBUS_SESSION_BUS_ADDRESS=self.address)

    def call(self, method: str, sig: str | None = None, args=(), iface: str = BUS_NAME,
             path: str = OBJ_PATH, dest: str = BUS_NAME, timeout: int = DBUS_ANSWER_TIMEOUT) -> Run:
        cmd = ["busctl", f"--address={self.address}", "--json=short", f"--timeout={timeout}",
               "call", dest, path, iface, method]
        if sig is not None:
            cmd += [sig, *map(str, args)]
        return self.pr.run(cmd, timeout=timeout + 5, env=self.env)

    @staticmethod
    def answered(r: Run) -> bool:
        """A reply or an error came back (busctl's own timeout is the 5 s limit)."""
        return not r.hung and b"timed out" not in r.err.lower()

    def status_json(self) -> dict | None:
        r = self.call("GetStatusJson")
        if r.rc != 0:
            return None
        try:
            return json.loads(json.loads(r.out)["data"][0])
        except (ValueError, KeyError, IndexError):
            return None

    def stop(self) -> None:
        self.pr.stop(self.proc)


class Daemon:
    """`etcd-warden -c CFG run` with its output in a log file."""

    def __init__(self, pr: Probe, config: Path, env: dict, name: str):
        self.pr = pr
        self.config = config
        self.log = config.parent / f"{name}.log"
        self.proc = pr.spawn(pr.warden("-c", config, "run"), self.log, env=env)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> bytes:
        return self.log.read_bytes() if self.log.exists() else b""

    def stop(self, tally: Tally | None = None) -> int | None:
        """SIGTERM; the man page promises an exit within a few seconds: 10 s or it is a hang."""
        rc = self.pr.stop(self.proc, grace=10.0)
        if rc == -signal.SIGKILL and tally is not None:
            tally.add("hangs")
            tally.note(f"{self.log.name}: the daemon did not stop within 10 s of SIGTERM")
        return rc


# --------------------------------------------------------------------------
# Part 1: configs
# --------------------------------------------------------------------------

# A summary line check-config prints after its first 100 errors.
MORE_ERRORS = re.compile(rb": \.\.\. and \d+ more errors? \(only the first \d+ are shown\)$")


class ConfigFixtures:
    """The files the configs point at, named relative to the configs' directory
    (the loader resolves relative paths against it), so a kept case directory
    with its copy of them reproduces the finding as it is."""

    FILES = {
        "password": SECRET_PASSWORD_FILE + "\n",
        "ca.pem": "-----BEGIN CERTIFICATE-----\nTUlJQlByb2JlQ2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "cert.pem": "-----BEGIN CERTIFICATE-----\nTUlJQlByb2JlQ2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "key.pem": f"-----BEGIN PRIVATE KEY-----\n{SECRET_KEY_FILE}\n-----END PRIVATE KEY-----\n",
    }
    NOTES = {
        "password": f"password file holding {SECRET_PASSWORD_FILE}",
        "key.pem": f"TLS key file holding {SECRET_KEY_FILE}",
        "fifo": "a FIFO", "a-directory": "a directory", "does-not-exist": "nonexistent",
    }

    def __init__(self, pr: Probe):
        self.dir = pr.mkdir("configs")
        self.install(self.dir)
        self.password = self.dir / "password"
        self.key = self.dir / "key.pem"
        self.dead_port = pr.free_port()
        self.metrics_port = pr.free_port()
        self.hostile = [
            b"/dev/zero", b"/dev/urandom", b"fifo", b"a-directory", b"does-not-exist", b"password", b"key.pem",
            str(self.dir / "fifo").encode(), str(self.password).encode(),
            b"-1", b"0", b"18446744073709551615", b"18446744073709551616", b"-9223372036854775809",
            b"1e309", b"-1e309", b"nan", b"inf", b"-inf", b".nan", b".inf", b"''", b'""', b"~", b"[]", b"{}",
            b"A" * 100_000, b"\xff\xfe\xfd", b"caf\xc3", b"\xc0\xaf", b"-5m", b"99999999999999h",
            b"99999999999999d", b"1h-5m", b"0.0000000001ms", b"1.5", b"0x10", b"true", b"null",
            b"*undefined_alias", b"&anchor x", b"!!binary AAAA", b"!!python/object:os.system x",
            b"'unterminated", b'"unterminated', b"\t", b"a\x00b", b"https://[::1", b"http://127.0.0.1:0",
            b"unix:path=" + b"x" * 5000, b"%", b"|", b">", b"? x", b"- x", b"x: y: z", b"{a: [}",
        ]

    @classmethod
    def install(cls, d: Path) -> None:
        """The fixtures into d (the probe's work dir, or a kept case)."""
        for name, text in cls.FILES.items():
            (d / name).write_text(text)
            os.chmod(d / name, 0o600)
        if not (d / "fifo").exists():
            os.mkfifo(d / "fifo")
        (d / "a-directory").mkdir(exist_ok=True)

    def small_config(self) -> bytes:
        return f"""# small full config written by the hostile probe (paths relative to this file)
etcd:
  endpoints: ["https://127.0.0.1:{self.dead_port}"]
  tls:
    ca: ca.pem
    cert: cert.pem
    key: key.pem
    server_name: etcd.example
  auth:
    username: root
    password_file: password
  metrics_url: "http://127.0.0.1:{self.dead_port}/metrics"
  data_dir: etcd-data
  dial_timeout: 2s
  request_timeout: 3s
  quota: 2GiB
metrics:
  listen: "127.0.0.1:{self.metrics_port}"
log:
  level: debug
control:
  bus: session
coordination:
  prefix: /probe/
  lock_ttl: 10s
status:
  every: 5s
  retry_initial: 1s
  retry_max: 1m
compaction:
  mode: periodic
  retention: 1h
  every: 5m
defrag:
  min_free: 64MiB
  min_free_ratio: 0.25
  max_quota_usage: 0.7
  window: "01:00-05:00"
  max_raft_lag: 500
  disk_margin: 128MiB
alarms:
  every: 10s
snapshot:
  dir: snapshots
  compression: zstd
  compression_level: 3
  keep_last: 3
  max_age: 7d
  recheck_every: 12h
  copy_to: [copy1, copy2]
  hook: "/bin/true"
  hook_timeout: 30s
  every: 1h
tuning:
  heartbeat_interval: 100ms
  election_timeout: 1s
  etcd_unit: etcd.service
  systemd_bus: session
  env_files: [env1]
  kubeadm_manifest: manifest.yaml
  probe_dir: .
  probe_max_syncs: 100
  probe_max_time: 1s
""".encode()


def key_paths(effective: bytes) -> set:
    """Dotted keys (etcd.tls.ca, ...) of check-config's effective config."""
    keys, stack = set(), []
    for line in effective.decode(errors="replace").splitlines():
        m = re.match(r"^( *)([a-z_]+):", line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        stack = stack[:depth] + [m.group(2)]
        keys.add(".".join(stack))
    return keys


class PositionRule:
    """When is a check-config error positioned?

    Each non-empty line of the error output (stderr; stdout if stderr is
    empty) must either start with `FILE:LINE:COL: ` or `FILE:LINE: ` (FILE
    exactly as passed to -c), or name a key: contain a dotted key path whose
    first part is one of the top-level sections (`etcd.auth.password_file`).
    The line `FILE: ... and N more errors (only the first 100 are shown)` is a
    summary, not an error. A non-zero exit with no output at all is
    unpositioned.
    """

    def __init__(self, sections: set):
        alt = "|".join(sorted(map(re.escape, sections)))
        self.names_key = re.compile(rb"(?<![A-Za-z0-9_.])(" + alt.encode() + rb")(\.[A-Za-z0-9_]+)+")

    def bad_lines(self, path: str, r: Run) -> list:
        text = r.err if r.err.strip() else r.out
        pos = re.compile(re.escape(path).encode() + rb":\d+(:\d+)?: ")
        bad = []
        for line in text.splitlines():
            if not line.strip():
                continue
            if pos.match(line) or self.names_key.search(line):
                continue
            if line.startswith(path.encode()) and MORE_ERRORS.search(line):
                continue
            bad.append(line)
        if not text.strip():
            bad.append(b"(no output)")
        return bad


VALUE_LINE = re.compile(rb"^(\s*)([A-Za-z_][A-Za-z0-9_]*):([ \t]+)(.*?)([ \t]+#.*)?$")
ITEM_LINE = re.compile(rb"^(\s*)-[ \t]+(.*?)([ \t]+#.*)?$")
COMMENTED_KEY = re.compile(rb"^(\s*)#\s?([a-z_]+:.*)$")
URL_KEYS = {b"endpoints", b"metrics_url"}


class ConfigMutator:
    def __init__(self, fx: ConfigFixtures):
        self.fx = fx

    @staticmethod
    def _lines(text: bytes) -> list:
        return text.split(b"\n")

    def _parent_key(self, lines: list, i: int) -> bytes:
        indent = len(lines[i]) - len(lines[i].lstrip())
        for j in range(i - 1, -1, -1):
            m = VALUE_LINE.match(lines[j]) or re.match(rb"^(\s*)([A-Za-z_]+):\s*$", lines[j])
            if m and len(m.group(1)) < indent + 1:
                return m.group(2)
        return b""

    def hostile_value(self, rng: random.Random, key: bytes) -> bytes:
        if key in URL_KEYS and rng.random() < 0.5:
            u = SECRET_URL
            # As the brief's endpoint, as a scalar instead of a list, and with the
            # typos a hand-edited URL gets (no scheme, a broken scheme, a stray byte).
            return rng.choice([b'["' + u + b'"]', b'"' + u + b'"', u, b"[" + u + b", http://127.0.0.1:1]",
                               b'"' + u.replace(b"https://", b"http://") + b'"', b"[" + u[:-5] + b"]",
                               b'"' + u + b'/path?x=1"', b'["' + u.replace(b"https://", b"") + b'"]',
                               b'["' + u.replace(b"https://", b"htps//") + b'"]', b'["' + u + b'\xff"]'])
        v = rng.choice(self.fx.hostile)
        style = rng.choice(["raw", "raw", "double", "single"])
        if style == "double":
            return b'"' + v.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
        if style == "single":
            return b"'" + v.replace(b"'", b"''") + b"'"
        return v

    # Each mutation takes (rng, text) and returns (text, description).

    def scalar(self, rng, text):
        lines = self._lines(text)
        cands = [i for i, l in enumerate(lines) if (VALUE_LINE.match(l) and VALUE_LINE.match(l).group(4))
                 or ITEM_LINE.match(l)]
        if not cands:
            return self.flip(rng, text)
        i = rng.choice(cands)
        m = VALUE_LINE.match(lines[i])
        if m and m.group(4):
            key = m.group(2)
            v = self.hostile_value(rng, key)
            lines[i] = m.group(1) + key + b":" + m.group(3) + v
        else:
            m = ITEM_LINE.match(lines[i])
            key = self._parent_key(lines, i)
            v = self.hostile_value(rng, key)
            lines[i] = m.group(1) + b"- " + v
        return b"\n".join(lines), f"line {i + 1}: {key.decode(errors='replace')} = {_preview(v)}"

    def delete_line(self, rng, text):
        lines = self._lines(text)
        i = rng.randrange(len(lines))
        del lines[i]
        return b"\n".join(lines), f"deleted line {i + 1}"

    def duplicate_line(self, rng, text):
        lines = self._lines(text)
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return b"\n".join(lines), f"duplicated line {i + 1}"

    def indentation(self, rng, text):
        lines = self._lines(text)
        cands = [i for i, l in enumerate(lines) if l.strip() and not l.lstrip().startswith(b"#")] or [0]
        i = rng.choice(cands)
        body = lines[i].lstrip()
        indent = len(lines[i]) - len(body)
        how = rng.choice(["+1", "-1", "+2", "-2", "tab", "flush", "deep"])
        new = {"+1": indent + 1, "-1": max(0, indent - 1), "+2": indent + 2, "-2": max(0, indent - 2),
               "flush": 0, "deep": indent + 40}.get(how)
        lines[i] = (b"\t" + lines[i]) if how == "tab" else b" " * new + body
        return b"\n".join(lines), f"indentation {how} on line {i + 1}"

    def unknown_key(self, rng, text):
        lines = self._lines(text)
        i = rng.randrange(len(lines) + 1)
        ref = lines[i - 1] if i > 0 else b""
        indent = len(ref) - len(ref.lstrip()) if ref.strip() else 0
        indent = rng.choice([indent, indent + 2, 0])
        name = rng.choice([b"probe_unknown", b"every_", b"enabeld", b"etcd", b"snapshot", b"k" * 2000,
                           b"\xff\xfe", b"\"quoted key\"", b"? complex"])
        lines.insert(i, b" " * indent + name + b": " + rng.choice([b"1", b"x", b"{}", b"[]", b"~"]))
        return b"\n".join(lines), f"unknown key {_preview(name)} at line {i + 1}, indent {indent}"

    def truncate(self, rng, text):
        n = rng.randrange(len(text)) if text else 0
        return text[:n], f"truncated at byte {n} of {len(text)}"

    def flip(self, rng, text):
        if not text:
            return b"\xff", "flip on empty text"
        i = rng.randrange(len(text))
        b = bytearray(text)
        b[i] ^= rng.randint(1, 255)
        return bytes(b), f"flipped byte {i} (0x{text[i]:02x} -> 0x{b[i]:02x})"

    def deep(self, rng, text):
        lines = self._lines(text)
        cands = [i for i, l in enumerate(lines) if VALUE_LINE.match(l) and VALUE_LINE.match(l).group(4)] or [0]
        i = rng.choice(cands)
        style = rng.choice(["flow-list", "block-list", "flow-map"])
        if style == "flow-list":
            v = b"[" * 2001 + b"]" * 2001
        elif style == "flow-map":
            v = b"{a: " * 2001 + b"1" + b"}" * 2001
        else:
            v = b"\n" + b" " * 4 + b"- " * 2001 + b"x"
        m = VALUE_LINE.match(lines[i])
        if m:
            lines[i] = m.group(1) + m.group(2) + b": " + v
        else:
            lines.insert(i, b"deep: " + v)
        return b"\n".join(lines), f"a {style} nested 2001 deep at line {i + 1}"

    def uncomment(self, rng, text):
        lines = self._lines(text)
        cands = [i for i, l in enumerate(lines) if COMMENTED_KEY.match(l)]
        if not cands:
            return self.duplicate_line(rng, text)
        i = rng.choice(cands)
        m = COMMENTED_KEY.match(lines[i])
        lines[i] = m.group(1) + m.group(2)
        return b"\n".join(lines), f"uncommented line {i + 1}"

    OPS = [("scalar", 40), ("delete_line", 8), ("duplicate_line", 8), ("indentation", 8), ("unknown_key", 8),
           ("truncate", 6), ("flip", 12), ("deep", 3), ("uncomment", 7)]

    def mutate(self, rng: random.Random, text: bytes):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        done = []
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            op = rng.choices(names, weights)[0]
            text, what = getattr(self, op)(rng, text)
            done.append(f"{op}: {what}")
        return text, done


def _preview(v: bytes, n: int = 60) -> str:
    s = v[:n].decode("utf-8", errors="backslashreplace")
    return repr(s + (f"...({len(v)} bytes)" if len(v) > n else ""))


def part_configs(pr: Probe, tally: Tally, n_cases: int) -> None:
    fx = ConfigFixtures(pr)
    shipped_src = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
    if not shipped_src.exists():
        raise ProbeError(f"no shipped config at {shipped_src}")
    bases = {"shipped": shipped_src.read_bytes(), "small": fx.small_config()}

    # Both bases must be valid; their effective configs give the key names.
    sections, keys = set(), set()
    for name, text in bases.items():
        p = fx.dir / f"base-{name}.yaml"
        p.write_bytes(text)
        r = pr.run(pr.warden("-c", p, "check-config"), CHECK_CONFIG_TIMEOUT)
        if r.rc != 0:
            raise ProbeError(f"base config {name} does not pass check-config: {r.describe()}\n"
                             + r.output.decode(errors="replace"))
        found = key_paths(r.out)
        keys |= found
        sections |= {k for k in found if "." not in k}
        if find_secrets(r.output):
            tally.note(f"base config {name}: check-config prints {find_secrets(r.output)}")
            tally.add("secrets-leaked")
    rule = PositionRule(sections)
    tally.note(f"unpositioned rule: {' '.join(PositionRule.__doc__.split())}")
    tally.note(f"{len(keys)} keys known from the effective config, sections: {', '.join(sorted(sections))}")
    mut = ConfigMutator(fx)

    def evaluate(case: str, text: bytes | None, what: list, timeout: float, path: Path | None = None) -> None:
        if path is None:
            path = fx.dir / f"case-{case}.yaml"
            path.write_bytes(text)
        r = pr.run(pr.warden("-c", path, "check-config"), timeout, cwd=fx.dir)
        problems = []
        if r.crashed:
            tally.add("crashes")
            problems.append("crash")
        if r.hung:
            tally.add("hangs")
            problems.append(f"hang (> {timeout:g}s)")
        leaked = find_secrets(r.output)
        if leaked:
            tally.add("secrets-leaked")
            problems.append(f"secret in output: {leaked}")
        if r.rc != 0 and not r.crashed and not r.hung:
            bad = rule.bad_lines(str(path), r)
            if bad:
                tally.add("unpositioned-errors")
                problems.append(f"unpositioned: {[b[:200].decode(errors='replace') for b in bad[:3]]}")
        if problems:
            kept = pr.keep("configs", case, {"config.yaml": path}, [r],
                           {"mutations": what, "problems": problems, "fixtures": ConfigFixtures.NOTES,
                            "reproduce": "cd to this directory; etcd-warden -c config.yaml check-config"})
            ConfigFixtures.install(kept)
        if text is not None:
            path.unlink(missing_ok=True)

    # Fixed cases.
    many = b"log:\n  level: info\n" + b"".join(b"probe_unknown_%d: %d\n" % (i, i) for i in range(60000))
    tally.add("cases")
    evaluate("many-unknown-keys", many, ["60000 unknown top-level keys (must finish within 5 s)"], MANY_KEYS_TIMEOUT)
    for name, path in [("config-is-password-file", fx.password), ("config-is-key-file", fx.key)]:
        tally.add("cases")
        evaluate(name, None, [f"-c {path.name} ({ConfigFixtures.NOTES[path.name]})"], CHECK_CONFIG_TIMEOUT,
                 path=path)
    for name, text in [("empty", b""), ("only-nul", b"\x00" * 100), ("non-utf8", b"\xff\xfe\xfd: \xc0\n"),
                       ("bom", b"\xef\xbb\xbflog:\n  level: info\n"), ("documents", b"---\n" * 10000),
                       ("alias-bomb", alias_bomb())]:
        tally.add("cases")
        evaluate(name, text, [name], CHECK_CONFIG_TIMEOUT)

    # Seeded random mutants of both bases.
    def one(i: int) -> None:
        rng = random.Random(f"{pr.seed}/configs/{i}")
        base = rng.choice(sorted(bases))
        text, what = mut.mutate(rng, bases[base])
        tally.add("cases")
        evaluate(f"c{i:05d}-{base}", text, [f"base: {base}"] + what, CHECK_CONFIG_TIMEOUT)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers()) as ex:
        for f in concurrent.futures.as_completed([ex.submit(one, i) for i in range(n_cases)]):
            f.result()


def alias_bomb() -> bytes:
    """Billion laughs: ten levels of nine aliases each, under a real key."""
    lines = [b"a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(b"a%d: &a%d [" % (i, i) + b", ".join([b"*a%d" % (i - 1)] * 9) + b"]")
    return b"\n".join(lines) + b"\nsnapshot:\n  copy_to: *a9\n"


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# --------------------------------------------------------------------------
# Part 2: snapshots
# --------------------------------------------------------------------------

ZSTD_SKIPPABLE = range(0x184D2A50, 0x184D2A60)


def is_ok(r: Run) -> bool:
    return r.rc == 0 or r.out.startswith(b"OK")


def part_snapshots(pr: Probe, tally: Tally, etcd: Etcd, n_cases: int) -> None:
    d = pr.mkdir("snapshots")
    cases_dir = pr.mkdir("snapshots", "cases")
    plain_path = d / "base.db"
    zst_path = d / "base.db.zst"
    etcd.must("snapshot", "save", plain_path)
    r = pr.run(["zstd", "-q", plain_path, "-o", zst_path], 60)
    if r.rc != 0:
        raise ProbeError(f"zstd: {r.describe()} {r.err.decode(errors='replace')}")
    for p in (plain_path, zst_path):
        r = pr.run(pr.warden("snapshot", "verify", p), VERIFY_TIMEOUT)
        if not (r.rc == 0 and r.out.startswith(b"OK")):
            raise ProbeError(f"the original {p.name} does not verify: {r.describe()}\n{r.output.decode(errors='replace')}")
        tally.note(f"original {p.name}: {r.out.decode(errors='replace').strip()}")
    plain, zst = plain_path.read_bytes(), zst_path.read_bytes()

    def evaluate(case: str, path: Path, what: str, benign_check=None) -> None:
        r = pr.run(pr.warden("snapshot", "verify", path), VERIFY_TIMEOUT)
        problems = []
        if r.crashed:
            tally.add("crashes")
            problems.append("crash")
        if r.hung:
            tally.add("hangs")
            problems.append("hang")
        if not r.hung and is_ok(r):
            if benign_check and benign_check(path):
                tally.note(f"{case}: {what}: verifies, and decodes to the original database (benign)")
            else:
                tally.add("false-verified")
                problems.append("false-verified")
        if problems:
            pr.keep("snapshots", case, {path.name: path}, [r], {"mutation": what, "problems": problems})

    def zstd_decodes_to_original(path: Path) -> bool:
        r = pr.run(["zstd", "-dc", path], 30)
        return r.rc == 0 and r.out == plain

    # Fixed cases: files that are not snapshots at all.
    fifo = cases_dir / "fifo.db"
    os.mkfifo(fifo)
    (cases_dir / "empty.db").write_bytes(b"")
    pr.mkdir("snapshots", "cases", "dir.db")
    os.symlink("/dev/zero", cases_dir / "zero-link.db")
    os.symlink("/dev/urandom", cases_dir / "urandom-link.db")
    (cases_dir / "trailer-only.db").write_bytes(hashlib.sha256(b"").digest())
    (cases_dir / "zstd-empty-frame.db.zst").write_bytes(b"\x28\xb5\x2f\xfd\x20\x00\x01\x00\x00")
    fixed = ["fifo.db", "empty.db", "dir.db", "zero-link.db", "urandom-link.db", "trailer-only.db",
             "zstd-empty-frame.db.zst"]
    for name in fixed:
        tally.add("cases")
        evaluate(f"fixed-{name}", cases_dir / name, name)
    for name in ["/dev/zero", "/dev/urandom", str(d / "missing.db")]:
        tally.add("cases")
        evaluate(f"fixed-{Path(name).name}", Path(name), name)

    def rehash(db: bytes) -> bytes:
        body = db[:-32]
        return body + hashlib.sha256(body).digest()

    def mutant(rng: random.Random):
        kind = rng.choices(["flip", "truncate", "append", "skippable", "forged", "zero-page", "rehash-meta"],
                           [30, 20, 12, 10, 10, 12, 6])[0]
        src_name, src = rng.choice([("plain", plain), ("zst", zst)])
        if kind == "skippable":
            src_name, src = "zst", zst
        if kind == "rehash-meta":
            src_name, src = "plain", plain
        if kind == "flip":
            i = rng.randrange(len(src))
            b = bytearray(src)
            b[i] ^= rng.randint(1, 255)
            return src_name, kind, bytes(b), f"flipped byte {i} of {len(src)}"
        if kind == "truncate":
            n = rng.choice([0, 1, 31, 32, 33, 4096, len(src) - 32, len(src) - 1, rng.randrange(len(src))])
            n = max(0, min(n, len(src) - 1))
            return src_name, kind, src[:n], f"truncated to {n} of {len(src)} bytes"
        if kind == "append":
            junk = rng.choice([b"\x00", b"\n", os.urandom(rng.randint(1, 4096)), hashlib.sha256(src).digest(),
                               src[-32:], zst[:64]])
            return src_name, kind, src + junk, f"appended {len(junk)} bytes"
        if kind == "skippable":
            magic = rng.choice(list(ZSTD_SKIPPABLE))
            size = rng.choice([0, 1, 4, 32, rng.randint(0, 4096)])
            frame = struct.pack("<II", magic, size) + os.urandom(size)
            where = rng.choice(["end", "start"])
            data = zst + frame if where == "end" else frame + zst
            return src_name, kind, data, f"skippable frame 0x{magic:08X} of {size} bytes at the {where}"
        if kind == "forged":
            n = rng.choice([0, 1, 32, 4095, 4096, 8192, 65536, rng.randint(0, 200_000)])
            body = os.urandom(n)
            if rng.random() < 0.3:
                body = plain[:min(n, len(plain) - 32)]  # a real prefix, cut short, hashed right
            return "forged", kind, body + hashlib.sha256(body).digest(), f"{len(body)} bytes + their sha256"
        if kind == "zero-page":
            pages = max(1, len(src) // 4096)
            for _ in range(50):
                off = rng.randrange(pages) * 4096
                b = bytearray(src)
                b[off:off + 4096] = bytes(len(b[off:off + 4096]))
                if bytes(b) != src:
                    return src_name, kind, bytes(b), f"zeroed the 4096-byte page at {off}"
            return src_name, kind, src[:-1], "no non-zero page found: truncated by one byte"
        # rehash-meta: both bbolt meta pages (0 and 1) damaged, trailer recomputed to match.
        b = bytearray(plain)
        how = rng.choice(["flip", "zero"])
        for page in (0, 1):
            lo, hi = page * 4096 + 16, page * 4096 + 80
            if how == "zero":
                b[lo:hi] = bytes(hi - lo)
            else:
                b[rng.randrange(lo, hi)] ^= rng.randint(1, 255)
        return "plain", kind, rehash(bytes(b)), f"both bbolt meta pages {how}ped, sha256 trailer recomputed"

    def one(i: int) -> None:
        rng = random.Random(f"{pr.seed}/snapshots/{i}")
        src_name, kind, data, what = mutant(rng)
        if data in (plain, zst):
            tally.note(f"s{i:04d}: mutation produced the original bytes; skipped")
            return
        ext = ".db.zst" if src_name == "zst" else ".db"
        path = cases_dir / f"s{i:04d}-{kind}{ext}"
        path.write_bytes(data)
        tally.add("cases")
        benign = zstd_decodes_to_original if (src_name == "zst" and kind in ("flip", "zero-page")) else None
        evaluate(path.stem.split(".")[0], path, f"{src_name}: {kind}: {what}", benign)
        path.unlink(missing_ok=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers()) as ex:
        for f in concurrent.futures.as_completed([ex.submit(one, i) for i in range(n_cases)]):
            f.result()


# --------------------------------------------------------------------------
# Part 3: sidecars
# --------------------------------------------------------------------------

LIST_ROW = re.compile(rb"^  (\S+)\s+(-?\d+)\s+(\S+)\s+(\S+)\s+(yes.*|no: .*)$")
PLAN_FROM = re.compile(rb"^# Restore plan: .* from (\S+) \(revision", re.M)


def parse_list(out: bytes) -> dict:
    """`snapshot list` rows: file name -> 'yes' or 'no: reason'.

    The warden writes "yes, bytes checked 3m ago": when it last read the bytes
    against the sidecar; that counts as 'yes'."""
    rows = {}
    for line in out.splitlines():
        m = LIST_ROW.match(line)
        if m and m.group(1) != b"FILE":
            verdict = m.group(5).decode(errors="replace")
            rows[m.group(1).decode(errors="replace")] = "yes" if verdict.startswith("yes") else verdict
    return rows


def write_config(path: Path, sections: dict) -> Path:
    """A warden config from {section: {key: raw YAML value}}."""
    lines = []
    for name, keys in sections.items():
        lines.append(f"{name}:")
        lines += [f"  {k}: {v}" for k, v in keys.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def snapshot_config(path: Path, etcd: Etcd, snap_dir: Path, **snapshot) -> Path:
    return write_config(path, {
        "etcd": {"endpoints": f"[{yaml_quote(etcd.url)}]", "data_dir": yaml_quote(str(etcd.data))},
        "metrics": {"listen": '""'},
        "control": {"bus": "session"},
        "snapshot": {"dir": yaml_quote(str(snap_dir)), **snapshot},
    })


def make_warden_snapshots(pr: Probe, etcd: Etcd, snap_dir: Path, work: Path) -> list:
    """Three snapshots written by the warden itself (zstd, plain, zstd); their names."""
    snap_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    zcfg = snapshot_config(work / "zstd.yaml", etcd, snap_dir)
    pcfg = snapshot_config(work / "plain.yaml", etcd, snap_dir, compression="none")
    for i, cfg in enumerate([zcfg, pcfg, zcfg]):
        etcd.put(f"/probe/sidecar-round-{i}", f"round {i}")
        before = set(os.listdir(snap_dir))
        r = pr.run(pr.warden("-c", cfg, "job", "snapshot"), 60)
        if r.rc != 0:
            raise ProbeError(f"job snapshot: {r.describe()}: {r.output.decode(errors='replace')}")
        new = sorted(set(os.listdir(snap_dir)) - before)
        if len(new) != 2:
            raise ProbeError(f"job snapshot did not add one snapshot and its sidecar: {new}")
        # Names carry the second they were taken in: the next one must not clash.
        wait_until(lambda: time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) not in new[0], timeout=3, interval=0.05)
    return sorted(n for n in os.listdir(snap_dir) if not n.endswith(".json"))


class SidecarMutations:
    """Each returns (expectation, description); expectation is 'mnv' (must not
    be shown verified), 'neutral' (may be either) or 'benign'."""

    IDENTIFYING = ["file", "file_bytes", "revision", "sha256", "db_bytes", "compression"]

    def __init__(self, names: list):
        self.names = names

    @staticmethod
    def set_field(text: bytes, key: str, raw: bytes) -> bytes:
        pat = re.compile(rb'("' + key.encode() + rb'": )(".*?"|[^,\n]*)(,?)$', re.M)
        new, n = pat.subn(lambda m: m.group(1) + raw + m.group(3), text, count=1)
        if n != 1:
            raise ProbeError(f"sidecar has no key {key}")
        return new

    @staticmethod
    def get_field(text: bytes, key: str):
        return json.loads(text)[key]

    def choose(self, rng: random.Random, side: bytes, target: str):
        info = json.loads(side)
        kind = rng.choice(["sha256-hex", "sha256-empty", "sha256-x", "sha256-upper", "file", "db_bytes",
                           "file_bytes", "revision", "compression", "huge", "year-99999", "non-utf8-member",
                           "non-utf8-file", "truncated", "whitespace", "fifo", "removed", "not-object",
                           "nested-deep", "verified_at-future+sha256"])
        if kind == "sha256-hex":
            other = "".join(rng.choice("0123456789abcdef") for _ in range(64))
            return kind, "mnv", self.set_field(side, "sha256", f'"{other}"'.encode())
        if kind == "sha256-empty":
            return kind, "mnv", self.set_field(side, "sha256", b'""')
        if kind == "sha256-x":
            return kind, "mnv", self.set_field(side, "sha256", b'"x"')
        if kind == "sha256-upper":
            return kind, "neutral", self.set_field(side, "sha256", f'"{info["sha256"].upper()}"'.encode())
        if kind == "file":
            other = rng.choice([n for n in self.names if n != target] + ["x", "", "../" + target, target + " "])
            return kind, "mnv", self.set_field(side, "file", json.dumps(other).encode())
        if kind in ("db_bytes", "file_bytes", "revision"):
            v = info[kind] + rng.choice([1, -1, 4096, 1 << 32])
            return kind, "mnv", self.set_field(side, kind, str(v).encode())
        if kind == "compression":
            other = {"zstd": "none", "none": "zstd"}[info["compression"]]
            return kind, "mnv", self.set_field(side, "compression", f'"{other}"'.encode())
        if kind == "huge":
            key = rng.choice(["db_bytes", "file_bytes", "revision", "duration_seconds"])
            v = rng.choice([b"18446744073709551615", b"18446744073709551616", b"9223372036854775808",
                            b"99999999999999999999999999", b"1e400", b"-1e400", b"1.8446744073709552e19"])
            return f"huge-{key}", ("neutral" if key == "duration_seconds" else "mnv"), self.set_field(side, key, v)
        if kind == "year-99999":
            key = rng.choice(["taken_at", "verified_at"])
            return f"year-99999-{key}", "neutral", self.set_field(side, key, b'"99999-01-01T00:00:00Z"')
        if kind == "non-utf8-member":
            return kind, "neutral", self.set_field(side, "member", b'"m1\xff\xfe"')
        if kind == "non-utf8-file":
            return kind, "mnv", self.set_field(side, "file", b'"' + target.encode()[:-3] + b'\xff\xfe"')
        if kind == "truncated":
            n = rng.randrange(len(side))
            try:
                same = json.loads(side[:n]) == info
            except ValueError:
                same = False
            return f"truncated-at-{n}", ("benign" if same else "mnv"), side[:n]
        if kind == "whitespace":
            return kind, "benign", side.replace(b": ", b":   ").replace(b"\n", b"\n\n") + b"  \n"
        if kind == "fifo":
            return kind, "mnv", None
        if kind == "removed":
            return kind, "mnv", b""
        if kind == "not-object":
            return kind, "mnv", rng.choice([b"[]", b"null", b"\"x\"", b"1", b"{}"])
        if kind == "nested-deep":
            return kind, "mnv", b'{"a":' * 100_000 + b"1" + b"}" * 100_000
        # An edit that also moves verified_at past the sidecar's mtime.
        other = "".join(rng.choice("0123456789abcdef") for _ in range(64))
        t = self.set_field(side, "sha256", f'"{other}"'.encode())
        return kind, "mnv", self.set_field(t, "verified_at", b'"2200-01-01T00:00:00Z"')


def part_sidecars(pr: Probe, tally: Tally, etcd: Etcd, n_cases: int) -> Path:
    d = pr.mkdir("sidecars")
    base = d / "base"
    names = make_warden_snapshots(pr, etcd, base, d)
    base_cfg = snapshot_config(d / "base.yaml", etcd, base)
    r = pr.run(pr.warden("-c", base_cfg, "snapshot", "list"), LIST_TIMEOUT)
    rows = parse_list(r.out)
    if r.rc != 0 or sorted(rows) != names or any(v != "yes" for v in rows.values()):
        raise ProbeError(f"snapshot list of the warden's own snapshots: {r.describe()}\n{r.output.decode(errors='replace')}")
    tally.note(f"base: {len(names)} warden snapshots, all verified: {', '.join(names)}")
    originals = {n: (base / n).read_bytes() for n in names}
    sidecars = {n: (base / (n + ".json")).read_bytes() for n in names}
    verified_at = {n: json.loads(sidecars[n])["verified_at"] for n in names}
    muts = SidecarMutations(names)
    cases_dir = pr.mkdir("sidecars", "cases")

    fv_kinds: collections.Counter = collections.Counter()
    fv_lock = threading.Lock()

    def truly_verified(snaps: Path, name: str) -> bool:
        """The bytes are the warden's and match the sha256 the sidecar records."""
        try:
            data = (snaps / name).read_bytes()
            recorded = json.loads((snaps / (name + ".json")).read_bytes())["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        # (The recorded sha256 is that of the database inside, so compare with the original's.)
        return data == originals.get(name) and recorded == json.loads(sidecars[name])["sha256"]

    def epoch(rfc3339: str) -> float:
        return float(calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")))

    def one(i: int) -> None:
        rng = random.Random(f"{pr.seed}/sidecars/{i}")
        case = f"x{i:04d}"
        cdir = cases_dir / case
        snaps = cdir / "snaps"
        shutil.copytree(base, snaps, copy_function=shutil.copy2)  # keeps mtimes
        cfg = snapshot_config(cdir / "config.yaml", etcd, Path("snaps"))  # relative: the kept case reproduces
        target = rng.choice(names)
        tpath, spath = snaps / target, snaps / (target + ".json")
        s_st, t_st = os.stat(spath), os.stat(tpath)
        if rng.random() < 0.25:
            # One byte of the snapshot itself; its mtime is now, or put back.
            timing = rng.choice(["mtime-now", "mtime-restored"])
            data = bytearray(originals[target])
            pos = rng.randrange(len(data))
            data[pos] ^= rng.randint(1, 255)
            tpath.write_bytes(bytes(data))
            if timing == "mtime-restored":
                os.utime(tpath, ns=(t_st.st_atime_ns, t_st.st_mtime_ns))
            # With the mtime put back (bit rot), a listing cannot know without
            # reading every byte; it says when they were last read, and the
            # re-check, `snapshot verify` and restore-plan read them: those must
            # catch it.
            expect = "mnv" if timing == "mtime-now" else "rot"
            kind, what = "snapshot-flip", f"flipped byte {pos} of {target}, {timing}"
        else:
            kind, expect, new = muts.choose(rng, sidecars[target], target)
            spath.unlink()
            if new is None:
                os.mkfifo(spath)
                timing = "fifo"
            elif kind == "removed":
                timing = "removed"
            else:
                spath.write_bytes(new)
                # When the edit happened, relative to the check the sidecar records.
                timing = rng.choice(["edited-10min-later", "edited-60s-later", "mtime-restored"])
                t0 = epoch(verified_at[target])
                if timing == "mtime-restored":
                    os.utime(spath, ns=(s_st.st_atime_ns, s_st.st_mtime_ns))
                else:
                    dt = 600 if timing == "edited-10min-later" else 60
                    os.utime(spath, (t0 + dt, t0 + dt))
            what = f"sidecar of {target}: {kind}, {timing}"
        tally.add("cases")

        lr = pr.run(pr.warden("-c", cfg, "snapshot", "list"), LIST_TIMEOUT)
        pr_run = pr.run(pr.warden("-c", cfg, "restore-plan"), PLAN_TIMEOUT)
        problems = []
        for r, what_run in ((lr, "snapshot list"), (pr_run, "restore-plan")):
            if r.crashed:
                tally.add("crashes")
                problems.append(f"{what_run}: crash")
            if r.hung:
                tally.add("hangs")
                problems.append(f"{what_run}: hang")
        rows = parse_list(lr.out)
        false_verified = []
        if not lr.hung and expect == "mnv" and rows.get(target) == "yes":
            false_verified.append(f"snapshot list shows {target} verified")
        if expect == "rot":
            vr = pr.run(pr.warden("-c", cfg, "snapshot", "verify", str(tpath)), LIST_TIMEOUT)
            if vr.crashed or vr.hung:
                tally.add("crashes" if vr.crashed else "hangs")
                problems.append("snapshot verify: crash" if vr.crashed else "snapshot verify: hang")
            elif vr.rc == 0:
                false_verified.append(f"snapshot verify says {target} is fine")
        if not lr.hung and not lr.crashed and target not in rows:
            problems.append(f"snapshot list has no row for {target}")
        if pr_run.rc == 0 and not pr_run.hung:
            m = PLAN_FROM.search(pr_run.out)
            offered = Path(m.group(1).decode(errors="replace")).name if m else None
            if offered is None:
                problems.append("restore-plan succeeded but names no snapshot")
            elif rows.get(offered) != "yes":
                false_verified.append(f"restore-plan offers {offered}, which snapshot list shows as "
                                      f"{rows.get(offered, 'absent')!r}")
            elif not truly_verified(snaps, offered):
                false_verified.append(f"restore-plan offers {offered}: its bytes are not the ones the warden "
                                      "wrote, or no longer match its sidecar's sha256")
        if false_verified:
            tally.add("false-verified")
            problems += false_verified
            with fv_lock:
                fv_kinds[f"{kind}, {timing}"] += 1
        if problems:
            pr.keep("sidecars", case, {"snaps": snaps, "config.yaml": cfg}, [lr, pr_run],
                    {"mutation": what, "expectation": expect, "problems": problems,
                     "verified_at": verified_at[target]})
        shutil.rmtree(cdir, ignore_errors=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers()) as ex:
        for f in concurrent.futures.as_completed([ex.submit(one, i) for i in range(n_cases)]):
            f.result()
    for what, count in sorted(fv_kinds.items(), key=lambda kv: -kv[1]):
        tally.note(f"false-verified: {count} x {what}")
    return base


# --------------------------------------------------------------------------
# Part 4: dbus
# --------------------------------------------------------------------------


def daemon_sections(etcd_url: str, data_dir: Path, snap_dir: Path, metrics_port: int) -> dict:
    """The daemon's config for parts 4 and 5 (sections may be extended before writing)."""
    return {
        "etcd": {"endpoints": f"[{yaml_quote(etcd_url)}]", "data_dir": yaml_quote(str(data_dir)),
                 "dial_timeout": "1s", "request_timeout": "2s"},
        "metrics": {"listen": yaml_quote(f"127.0.0.1:{metrics_port}")},
        "control": {"bus": "session"},
        "tuning": {"systemd_bus": "session", "env_files": "[]", "probe_max_time": "300ms",
                   "kubeadm_manifest": yaml_quote(str(snap_dir.parent / "no-manifest.yaml"))},
        "status": {"every": "1s"},
        "snapshot": {"dir": yaml_quote(str(snap_dir))},
    }


def hostile_snapshot_dir(snap_dir: Path, base: Path | None) -> list:
    """Copies of the warden's snapshots plus hostile ones; what was added."""
    snap_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    added = []
    if base is None:
        return added
    names = sorted(n for n in os.listdir(base) if not n.endswith(".json"))
    for n in names:
        shutil.copy2(base / n, snap_dir / n)
        shutil.copy2(base / (n + ".json"), snap_dir / (n + ".json"))
    # A sidecar with a non-UTF-8 byte in the member name (and the file's name kept).
    src = names[0]
    m = re.match(r"^(etcd-m1-r\d+-)(\d{8}T\d{6}Z)(\.db(\.zst)?)$", src)
    if m:
        # Taken "in 2099": retention deletes unverified snapshots older than the
        # newest verified one, and the daemon's snapshot runs must not remove these.
        bad = f"{m.group(1)}20990101T000000Z{m.group(3)}"
        shutil.copy2(base / src, snap_dir / bad)
        side = (base / (src + ".json")).read_bytes()
        side = SidecarMutations.set_field(side, "file", json.dumps(bad).encode())
        side = SidecarMutations.set_field(side, "member", b'"m1\xff\xfe\xc3"')
        (snap_dir / (bad + ".json")).write_bytes(side)
        added.append(f"{bad} with a non-UTF-8 member in its sidecar")
        bad2 = f"{m.group(1)}20990102T000000Z{m.group(3)}"
        shutil.copy2(base / src, snap_dir / bad2)
        (snap_dir / (bad2 + ".json")).write_bytes(b'{"file": "\xff\xfe", "member": "\xc0\xaf"}')
        added.append(f"{bad2} with an unparsable non-UTF-8 sidecar")
    (snap_dir / b"etcd-m\xff-r000000000001-20990101T000000Z.db".decode(errors="surrogateescape")).write_bytes(b"x")
    added.append("a file named with a non-UTF-8 byte")
    return added


def dbus_odd_args(sig: str, rng: random.Random, jobs: list) -> list:
    """Argument lists for a method with in-signature `sig`: right types, odd values."""
    huge = "x" * 100_000
    if sig == "":
        return [[]]
    if sig == "s":
        return [[""], [huge], ["no-such-job"], ["status\n"], [" status"], ["STATUS"], ["../../etc/passwd"],
                ["é☃\u202e"], ["status; rm -rf /"], ["%s%n%x"]] + [[j] for j in jobs]
    if sig == "t":
        return [[0], [1], [36500 * 86400], [36500 * 86400 + 1], [2 ** 63], [2 ** 64 - 1], [rng.randint(2, 10 ** 9)]]
    if sig == "ss":
        return [["", ""], [BUS_NAME, ""], [BUS_NAME, huge], ["", huge], [huge, huge], [BUS_NAME, "Version"]]
    if sig == "ssv":
        return [[BUS_NAME, "x", "s", "y"], ["", "", "s", ""], [BUS_NAME, huge, "t", 1]]
    return [[]]


WRONG_SIGS = [("s", ["x"]), ("i", [-1]), ("x", [-1]), ("t", [1]), ("d", ["nan"]), ("b", ["true"]),
              ("as", [2, "a", "b"]), ("a{sv}", [1, "k", "s", "v"]), ("v", ["s", "x"]), ("ts", [1, "x"]),
              ("ay", [3, 255, 0, 254]), ("(ss)", ["a", "b"]), ("h", [0])]


def introspect(bus: Bus, path: str = OBJ_PATH) -> dict:
    """interface -> {method: in-signature}."""
    r = bus.call("Introspect", iface="org.freedesktop.DBus.Introspectable", path=path)
    if r.rc != 0:
        raise ProbeError(f"Introspect: {r.describe()} {r.err.decode(errors='replace')}")
    xml = json.loads(r.out)["data"][0]
    out = {}
    for iface in ET.fromstring(xml).iter("interface"):
        methods = {}
        for m in iface.iter("method"):
            methods[m.get("name")] = "".join(a.get("type") for a in m.iter("arg") if a.get("direction", "in") == "in")
        out[iface.get("name")] = methods
    return out


def part_dbus(pr: Probe, tally: Tally, etcd: Etcd, base: Path | None) -> None:
    d = pr.mkdir("dbus")
    bus = Bus(pr)
    try:
        snap_dir = d / "snaps"
        added = hostile_snapshot_dir(snap_dir, base)
        tally.note("snapshot dir holds: " + "; ".join(added))
        sections = daemon_sections(etcd.url, etcd.data, snap_dir, pr.free_port())
        sections["snapshot"]["every"] = "1h"
        cfg = write_config(d / "config.yaml", sections)
        daemon = Daemon(pr, cfg, bus.env, "daemon")
        wait_until(lambda: not daemon.alive() or bus.status_json(), timeout=15, interval=0.2)
        if not daemon.alive() or not bus.status_json():
            tally.add("cases")
            tally.add("hangs" if daemon.alive() else "crashes")
            kept = pr.keep("dbus", "start", {"daemon.log": daemon.output(), "config.yaml": cfg}, [],
                           {"problem": "the daemon did not answer GetStatusJson within 15 s of its start",
                            "daemon_rc": daemon.proc.returncode})
            tally.note(f"the daemon did not come up on the bus; kept in {kept}")
            daemon.stop(tally)
            return
        api = introspect(bus)
        if "ListSnapshots" not in api.get(BUS_NAME, {}):
            raise ProbeError(f"interface {BUS_NAME} not found in the introspection data: {sorted(api)}")
        tally.note("methods: " + "; ".join(f"{i}.{m}({s})" for i, ms in api.items() for m, s in ms.items()))
        rng = random.Random(f"{pr.seed}/dbus")
        # The job names, as the daemon lists them for an unknown one.
        r = bus.call("RunJob", "s", ["no-such-job"])
        m = re.search(rb"one of: ([a-z_, ]+)", r.err)
        jobs = [j.strip() for j in m.group(1).decode().split(",")] if m else JOBS
        tally.note(f"jobs: {', '.join(jobs)}")
        failures = []
        lost = []

        def check(label: str, r: Run) -> None:
            tally.add("cases")
            if not Bus.answered(r):
                tally.add("hangs")
                failures.append((label, r, "no answer within 5 s"))
            elif b"ServiceUnknown" in r.err or b"not activatable" in r.err or b"NameHasNoOwner" in r.err \
                    or b"was not provided by any .service" in r.err:
                lost.append((label, r))
                failures.append((label, r, "the daemon's bus name is gone"))

        calls = []  # (label, kwargs for bus.call)
        for iface, methods in api.items():
            for method, sig in methods.items():
                for args in dbus_odd_args(sig, rng, jobs):
                    calls.append((f"{iface}.{method}({sig}) {_short_args(args)}",
                                  dict(method=method, sig=sig if sig else None, args=args, iface=iface)))
                for wsig, wargs in WRONG_SIGS:
                    if wsig != sig:
                        calls.append((f"{iface}.{method} wrong signature {wsig}",
                                      dict(method=method, sig=wsig, args=wargs, iface=iface)))
                if sig:
                    calls.append((f"{iface}.{method} no arguments", dict(method=method, iface=iface)))
        calls += [
            ("unknown method", dict(method="NoSuchMethod")),
            ("unknown interface", dict(method="GetStatus", iface="io.etcdwarden.Nope")),
            ("unknown object path", dict(method="GetStatus", path=OBJ_PATH + "/nope")),
            ("root object path", dict(method="GetStatus", path="/")),
            ("introspect /", dict(method="Introspect", iface="org.freedesktop.DBus.Introspectable", path="/")),
            ("introspect /io", dict(method="Introspect", iface="org.freedesktop.DBus.Introspectable", path="/io")),
        ]
        for label, kw in calls:
            check(label, bus.call(**kw))
        # Whatever the odd Pause calls did, end paused-for-a-while then resumed.
        check("Pause(t) 5", bus.call("Pause", "t", [5]))
        check("Resume()", bus.call("Resume"))

        # 200 at once, from 200 clients.
        par = [("GetStatusJson", None, []), ("GetStatus", None, []), ("ListSnapshots", None, []),
               ("RunJob", "s", ["status"]), ("RunJob", "s", ["no-such-job"]), ("Pause", "s", ["x"]),
               ("RunJob", "s", ["x" * 100_000])]
        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
            futs = {}
            for i in range(200):
                method, sig, args = par[i % len(par)]
                futs[ex.submit(bus.call, method, sig, args)] = f"parallel #{i} {method} {_short_args(args)}"
            for f in concurrent.futures.as_completed(futs):
                check(futs[f], f.result())

        # ctl with odd arguments.
        ctl = [["ctl", "status"], ["ctl", "status", "-o", "json"], ["ctl", "snapshots"],
               ["ctl", "snapshots", "-o", "json"], ["ctl", "run", "no-such-job"], ["ctl", "run", ""],
               ["ctl", "run", "x" * 100_000], ["ctl", "run", "status"], ["ctl", "run", "snapshot", "--no-wait"],
               ["ctl", "pause", "--for", "-5m"], ["ctl", "pause", "--for", "99999999999999h"],
               ["ctl", "pause", "--for", "1s"], ["ctl", "resume"], ["ctl", "status", "-o", "yaml"],
               ["ctl", "status", "--bus", "unix:path=/nonexistent"], ["ctl", "status", "--bus", ""]]
        for args in ctl:
            r = pr.run(pr.warden("-c", cfg, *args), CTL_TIMEOUT, env=bus.env)
            label = "etcd-warden " + " ".join(_short_args(args))
            tally.add("cases")
            if r.hung:
                tally.add("hangs")
                failures.append((label, r, f"no answer within {CTL_TIMEOUT:g} s"))
            elif r.crashed:
                tally.add("crashes")
                failures.append((label, r, "ctl crashed"))

        # ListSnapshots must be valid JSON (the non-UTF-8 sidecar is in there).
        r = bus.call("ListSnapshots")
        tally.add("cases")
        try:
            listed = json.loads(json.loads(r.out)["data"][0])
            tally.note(f"ListSnapshots: {len(listed)} entries: "
                       + "; ".join(f"{e.get('file')}: " + ("verified" if e.get("verified") else
                                                          "not verified (" + _tail(e.get("problem")) + ")")
                                   for e in listed))
        except (ValueError, KeyError, IndexError):
            failures.append(("ListSnapshots as JSON", r, "not a JSON answer"))
            tally.add("hangs" if not Bus.answered(r) else "crashes")

        # At the end: still running, still answering.
        tally.add("cases")
        final = wait_until(lambda: bus.status_json(), timeout=DBUS_ANSWER_TIMEOUT, interval=0.2)
        if not daemon.alive():
            tally.add("crashes")
            failures.append(("daemon at the end", None, f"exited with {daemon.proc.returncode}"))
        elif not final:
            tally.add("crashes")
            failures.append(("daemon at the end", None, "running but GetStatusJson gets no answer"))
        if lost and daemon.alive() and final:
            tally.note(f"{len(lost)} calls found the bus name unowned, but the daemon answers at the end")
        rc = daemon.stop(tally)
        errors = [l for l in daemon.output().splitlines() if b" error " in l or b" critical " in l]
        tally.note(f"daemon stopped with {rc}; {len(errors)} error lines in its log"
                   + (f", e.g. {errors[0][:200].decode(errors='replace')}" if errors else ""))
        if failures:
            kept = pr.keep("dbus", "failures", {"daemon.log": daemon.output(), "config.yaml": cfg}, [],
                           {"failures": [{"call": label, "problem": why,
                                          "result": r.describe() if r else None,
                                          "stderr": r.err[:500].decode(errors="replace") if r else None}
                                         for label, r, why in failures[:200]]})
            tally.note(f"{len(failures)} failing calls, kept in {kept}")
    finally:
        bus.stop()


def _tail(problem, n: int = 100) -> str:
    """A problem text without the leading path."""
    text = str(problem)
    text = text.split(".json: ", 1)[-1]
    return text if len(text) <= n else text[:n] + "..."


def _short_args(args) -> list:
    return [a if len(str(a)) < 40 else f"<{len(str(a))} chars>" for a in map(str, args)]


# --------------------------------------------------------------------------
# Part 5: etcd down, and secrets
# --------------------------------------------------------------------------


def part_down_and_secrets(pr: Probe, tally: Tally, etcd: Etcd) -> None:
    d = pr.mkdir("down-secrets")
    bus = Bus(pr)
    try:
        down_check(pr, tally, bus, d)
        secrets_check(pr, tally, bus, etcd, d)
    finally:
        bus.stop()


def down_check(pr: Probe, tally: Tally, bus: Bus, d: Path) -> None:
    """(a) A closed port: up within 15 s, /metrics answers, ctl status says etcd is down."""
    closed = pr.free_port()
    mport = pr.free_port()
    cfg = write_config(d / "down.yaml", daemon_sections(f"http://127.0.0.1:{closed}", d / "down-data",
                                                        d / "down-snaps", mport))
    daemon = Daemon(pr, cfg, bus.env, "down")
    state = {}

    def ready():
        if not daemon.alive():
            return True
        state["metrics"] = http_get(mport)
        state["ctl"] = pr.run(pr.warden("-c", cfg, "ctl", "status"), CTL_TIMEOUT, env=bus.env)
        status, body = state["metrics"]
        ctl_out = state["ctl"].output
        state["ok_metrics"] = status == 200 and metric_value(body, "etcd_warden_etcd_up") == 0
        state["ok_ctl"] = bool(re.search(rb"(?i)\b(down|unreachable)\b", ctl_out))
        return state["ok_metrics"] and state["ok_ctl"]

    wait_until(ready, timeout=15, interval=0.5)
    checks = {"daemon up": daemon.alive(), "/metrics answers with etcd_warden_etcd_up 0": state.get("ok_metrics"),
              "ctl status says etcd is down": state.get("ok_ctl")}
    for label, ok in checks.items():
        tally.add("cases")
        if not ok:
            tally.add("crashes" if label == "daemon up" else "hangs")
    ctl_text = state["ctl"].out.decode(errors="replace") if "ctl" in state else ""
    tally.note("etcd down: " + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in checks.items())
               + f"; ctl status first line: {ctl_text.splitlines()[0] if ctl_text else '(none)'}")
    rc = daemon.stop(tally)
    if not all(checks.values()):
        pr.keep("etcd-down-and-secrets", "etcd-down", {"daemon.log": daemon.output(), "config.yaml": cfg},
                [state["ctl"]] if "ctl" in state else [],
                {"checks": checks, "metrics": (state.get("metrics") or (None, b""))[1][:3000].decode(errors="replace"),
                 "daemon_rc": rc})


def enable_auth(etcd: Etcd) -> None:
    etcd.must("user", "add", f"root:{SECRET_ETCD}")
    etcd.must("user", "grant-role", "root", "root")
    etcd.must("auth", "enable")
    etcd.user = f"root:{SECRET_ETCD}"
    etcd.must("put", "/probe/after-auth", "1")


def secrets_check(pr: Probe, tally: Tally, bus: Bus, etcd: Etcd, d: Path) -> None:
    """(b) etcd with auth: the right and a wrong password never show; snapshots are 0600."""
    enable_auth(etcd)
    for label, secret in [("right-password", SECRET_ETCD), ("wrong-password", SECRET_WRONG)]:
        run_dir = pr.mkdir("down-secrets", label)
        pw = run_dir / "password"
        pw.write_text(secret + "\n")
        os.chmod(pw, 0o600)
        snap_dir = run_dir / "snaps"
        mport = pr.free_port()
        sections = daemon_sections(etcd.url, etcd.data, snap_dir, mport)
        sections["etcd"]["auth"] = f"{{username: root, password_file: {yaml_quote(str(pw))}}}"
        sections["log"] = {"level": "trace"}
        sections["snapshot"].update({"every": "2s", "jitter": "0s", "retry_initial": "1s", "retry_max": "2s"})
        sections["compaction"] = {"every": "2s", "jitter": "0s", "retention": "5"}
        sections["defrag"] = {"every": "3s", "jitter": "0s"}
        sections["alarms"] = {"every": "1s"}
        sections["tuning"].update({"every": "4s", "jitter": "0s"})
        cfg = write_config(run_dir / "config.yaml", sections)
        for _ in range(3):  # a few keys so compaction has work
            etcd.put("/probe/secrets", label)
        started = time.monotonic()
        daemon = Daemon(pr, cfg, bus.env, "daemon")
        scrapes = []

        def enough():
            if not daemon.alive():
                return True
            status, body = http_get(mport)
            if status == 200:
                scrapes.append(body)
            if time.monotonic() - started < 15:
                return False
            if label == "wrong-password":
                return True
            snaps = [n for n in os.listdir(snap_dir) if n.endswith((".db", ".db.zst"))] if snap_dir.exists() else []
            compacted = status == 200 and (metric_value(body, "etcd_warden_job_runs_total",
                                                        'job="compact",result="success"') or 0) > 0
            return len(snaps) >= 2 and compacted

        wait_until(enough, timeout=25, interval=1.0)
        alive = daemon.alive()
        artifacts = {}
        artifacts["metrics"] = scrapes[-1] if scrapes else http_get(mport)[1]
        for args in (["ctl", "status"], ["ctl", "status", "-o", "json"], ["ctl", "snapshots", "-o", "json"],
                     ["ctl", "run", "snapshot"], ["ctl", "run", "compact"]):
            r = pr.run(pr.warden("-c", cfg, *args), 30, env=bus.env)
            artifacts[" ".join(args)] = r.output
        for method in ("GetStatusJson", "GetStatus", "ListSnapshots"):
            artifacts[f"D-Bus {method}"] = bus.call(method).output
        for args in (["check-config"], ["job", "status"], ["job", "snapshot"], ["job", "compact"],
                     ["snapshot", "list"], ["restore-plan"]):
            artifacts[" ".join(args)] = pr.run(pr.warden("-c", cfg, *args), 60, env=bus.env).output
        rc = daemon.stop(tally)
        artifacts["daemon output (stderr)"] = daemon.output()
        files = sorted(snap_dir.iterdir()) if snap_dir.exists() else []
        for f in files:
            if f.name.endswith(".json"):
                artifacts[f"sidecar {f.name}"] = f.read_bytes()

        tally.add("cases")
        if not alive:
            tally.add("crashes")
            tally.note(f"{label}: the daemon exited during the run (rc {rc})")
        leaks = {}
        for name, data in artifacts.items():
            tally.add("cases")
            found = find_secrets(data)
            if found:
                tally.add("secrets-leaked")
                leaks[name] = found
        # Snapshots are private: 0600 files in a 0700 directory.
        modes = {}
        if snap_dir.exists():
            modes[str(snap_dir)] = oct(stat.S_IMODE(os.stat(snap_dir).st_mode))
            tally.add("cases")
            if stat.S_IMODE(os.stat(snap_dir).st_mode) != 0o700:
                tally.add("secrets-leaked")
                leaks[str(snap_dir)] = [f"mode {modes[str(snap_dir)]}, not 0700"]
        for f in files:
            mode = stat.S_IMODE(os.lstat(f).st_mode)
            modes[f.name] = oct(mode)
            if f.name.endswith((".db", ".db.zst")):
                tally.add("cases")
                if mode != 0o600:
                    tally.add("secrets-leaked")
                    leaks[f.name] = [f"mode {oct(mode)}, not 0600"]
        snaps = [f.name for f in files if f.name.endswith((".db", ".db.zst"))]
        ctl_first = artifacts["ctl status"].decode(errors="replace").splitlines()[:1]
        status_line = re.search(rb"^status +\S+ +(\S+).*$", artifacts["ctl status"], re.M)
        tally.note(f"{label}: ctl status says {ctl_first}; status job: "
                   f"{status_line.group(0).decode(errors='replace')[:160] if status_line else '?'}")
        tally.note(f"{label}: {len(snaps)} snapshots, {len(artifacts)} outputs searched, daemon rc {rc}, "
                   f"leaks: {leaks or 'none'}")
        if label == "right-password" and len(snaps) < 2:
            tally.note(f"{label}: fewer than 2 snapshots were written in the window")
        if leaks:
            pr.keep("etcd-down-and-secrets", label,
                    {f"artifact-{i:02d}.txt": data for i, data in enumerate(artifacts.values())}
                    | {"config.yaml": cfg}, [],
                    {"leaks": leaks, "modes": modes,
                     "artifacts": {f"artifact-{i:02d}.txt": name for i, name in enumerate(artifacts)}})


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def print_summary(tallies: list) -> None:
    widths = [max(len("etcd-down-and-secrets"), 4)] + [len(c) for c in COLUMNS]
    head = ["part"] + COLUMNS
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for t in tallies:
        cells = [t.part]
        for c in COLUMNS:
            if t.error and c != "cases":
                cells.append("ERROR" if c in APPLIES[t.part] else "-")
            elif c == "cases" or c in APPLIES[t.part]:
                cells.append(str(t.counts[c]))
            else:
                cells.append("-")
        print("  ".join(v.ljust(w) for v, w in zip(cells, widths)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True, help="the etcd-warden binary, e.g. build/etcd-warden")
    ap.add_argument("--etcd-bin-dir", default=os.environ.get("ETCD_BIN_DIR", "/usr/bin"),
                    help="where etcd and etcdctl are (default $ETCD_BIN_DIR or /usr/bin)")
    ap.add_argument("--cases", type=int, default=None,
                    help="cases for each of the configs, snapshots and sidecars parts (default 3000, 400, 400)")
    ap.add_argument("--seed", type=int, default=18, help="seed of the mutations (default 18)")
    ap.add_argument("--keep", default="/tmp/hostile-probe-findings",
                    help="where failing inputs and outputs are saved (default /tmp/hostile-probe-findings)")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    args = ap.parse_args()
    chosen = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    parts = [p for p in PARTS if p in chosen]  # part 5 enables auth on etcd: always last
    if unknown:
        ap.error(f"unknown part(s): {', '.join(unknown)}")
    if not os.access(args.binary, os.X_OK):
        ap.error(f"{args.binary} is not an executable")
    for tool in ["zstd", "busctl", "dbus-daemon"]:
        if not shutil.which(tool):
            ap.error(f"{tool} is needed and not installed")
    n = {"configs": 3000, "snapshots": 400, "sidecars": 400}
    if args.cases is not None:
        n = {k: args.cases for k in n}

    pr = Probe(args)
    # SIGTERM too unwinds through the finally below: no process or temp dir is left.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    tallies = [Tally(p) for p in parts]
    exit_code = 0
    etcd = None
    sidecar_base = None
    try:
        pr.prepare_keep_dir()
        print(f"hostile probe: binary {pr.binary}, seed {pr.seed}, temp {pr.root}, findings {pr.keep_dir}",
              flush=True)
        if any(p in parts for p in PARTS[1:]):
            etcd = Etcd(pr)
            etcd.start()
            etcd.fill(2000)
            print(f"  etcd {etcd.url} up with 2000 keys", flush=True)
        for t in tallies:
            t0 = time.monotonic()
            print(f"== {t.part}", flush=True)
            pr.check_binary()
            try:
                if t.part == "configs":
                    part_configs(pr, t, n["configs"])
                elif t.part == "snapshots":
                    part_snapshots(pr, t, etcd, n["snapshots"])
                elif t.part == "sidecars":
                    sidecar_base = part_sidecars(pr, t, etcd, n["sidecars"])
                elif t.part == "dbus":
                    if sidecar_base is None:
                        d = pr.mkdir("dbus-base")
                        make_warden_snapshots(pr, etcd, d / "snaps", d)
                        sidecar_base = d / "snaps"
                    part_dbus(pr, t, etcd, sidecar_base)
                else:
                    part_down_and_secrets(pr, t, etcd)
            except ProbeError as e:
                t.error = str(e)
            pr.check_binary()
            for note in t.notes:
                print(f"   {note}", flush=True)
            if t.error:
                print(f"   ERROR: {t.error}", flush=True)
            print(f"   {t.part}: {t.counts['cases']} cases in {time.monotonic() - t0:.1f}s", flush=True)
    except BinaryChanged as e:
        print(f"\nABORTED: {e}; wait for the build and run the probe again", flush=True)
        exit_code = 3
    except ProbeError as e:
        print(f"\nERROR: {e}", flush=True)
        exit_code = 2
    finally:
        pr.cleanup()
    print_summary(tallies)
    print(f"\nruntime {time.monotonic() - started:.0f}s; {pr.kept} failing case(s) kept in {pr.keep_dir}")
    if exit_code:
        return exit_code
    if any(t.error for t in tallies):
        return 2
    return 1 if any(t.failing() for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
