"""Web nodes and index followers as real processes on 127.0.0.1 (issue #17): gunicorn serving
``portal:create_app()`` and ``credit-portal index follow --node …``, each node with its own
environment (its ``SEARCH_URL``), all on one database.

Shared by the two-node integration test (tests/integration/test_two_nodes.py) and the two-node
figures (``python -m bench nodes``, bench/nodes.py). Polls have deadlines; a failure raises
``ClusterError`` with the command's output, never hangs.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .load import free_port

BIN = Path(sys.executable).parent
START_WITHIN = 60.0  # generous: process start-up on a loaded machine, not a figure


class ClusterError(RuntimeError):
    pass


def http_get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def poll(check, within: float, every: float = 0.05) -> bool:
    end = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(every)


def workers(master: int) -> list[int]:
    """The child processes of ``master`` (gunicorn's workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def hwm_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a live process, MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return float("nan")


def node_env(base: dict[str, str] | None = None, **settings: str) -> dict[str, str]:
    """The process environment of one node: this one without any portal setting, plus ``settings``."""
    env = {k: v for k, v in (base if base is not None else os.environ).items()
           if not k.startswith(("PORTAL_", "SEARCH_URL", "DATABASE_URL"))}
    env.update(settings)
    return env


class Cluster:
    """Nodes named by ``envs`` (node → environment); processes are logged to ``tmp``."""

    def __init__(self, tmp: Path, envs: dict[str, dict[str, str]], cwd: Path | None = None):
        self.tmp, self.env, self.procs = Path(tmp), envs, []
        self.cwd = cwd or self.tmp
        self.base: dict[str, str] = {}
        self.servers: dict[str, subprocess.Popen] = {}

    def run(self, node: str, *args: str) -> str:
        done = subprocess.run([str(BIN / "credit-portal"), *args], env=self.env[node], cwd=self.cwd,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise ClusterError(f"credit-portal {' '.join(args)} on {node}: {done.stderr[-2000:]}")
        return done.stdout

    def start(self, node: str, *args: str) -> subprocess.Popen:
        log = (self.tmp / f"{node}-{len(self.procs)}.log").open("w")
        proc = subprocess.Popen(list(args), env=self.env[node], cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT)
        proc.log = log  # closed in stop()
        self.procs.append(proc)
        return proc

    def serve(self, node: str, workers: int = 1, app: str = "portal:create_app()", preload: bool = False) -> str:
        """gunicorn (sync workers) for ``node`` on a free port, until ``/readyz`` answers 200
        (a bare app without that route: until ``/`` answers)."""
        port = free_port()
        cmd = [str(BIN / "gunicorn"), "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
               "--log-level", "warning"]
        proc = self.start(node, *cmd, *(["--preload"] if preload else []), app)
        base = f"http://127.0.0.1:{port}"
        probe = "/readyz" if app.startswith("portal") else "/"

        def up() -> bool:
            if proc.poll() is not None:
                raise ClusterError(f"gunicorn for {node} exited with {proc.returncode}")
            try:
                return http_get(base + probe)[0] == 200
            except OSError:
                return False

        if not poll(up, START_WITHIN, 0.2):
            raise ClusterError(f"gunicorn for {node} did not become ready")
        self.base[node], self.servers[node] = base, proc
        return base

    def port(self, node: str) -> int:
        return int(self.base[node].rsplit(":", 1)[1])

    def follow(self, node: str, name: str, wait: bool = True, interval: float = 0.1,
               within: float = START_WITHIN) -> subprocess.Popen:
        """Start a follower; with ``wait``, until it is registered and has applied the log
        (a first start builds the node's index from the database: ``within`` bounds that)."""
        proc = self.start(node, str(BIN / "credit-portal"), "index", "follow", "--node", name,
                          "--interval", str(interval))
        if wait and not poll(lambda: proc.poll() is None and self.caught_up(name), within, 0.5):
            raise ClusterError(f"follower {name} did not catch up: {self.run(node, 'index', 'nodes')}")
        return proc

    def caught_up(self, name: str) -> bool:
        node = next(iter(self.env))
        line = next((x for x in self.run(node, "index", "nodes").splitlines() if x.startswith(f"{name}：")), "")
        return "待应用 0" in line

    def import_orgs(self, node: str, seed: int, rows: int = 2) -> None:
        from .import_stall import write_import_csv

        path = self.tmp / f"import-{seed}.csv"
        write_import_csv(path, rows, seed=seed)
        self.run(node, "import", str(path))

    def stop(self, proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)
        proc.log.close()

    def close(self) -> None:
        for proc in self.procs:
            self.stop(proc)
