"""A local server under a bounded load: a free port, waiting for it, and ``wrk`` with the
``wrk_paths.lua`` script (rotating over a list of paths, printing a ``WRKJSON`` summary)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

LUA = Path(__file__).with_name("wrk_paths.lua")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until ``port`` accepts connections; fails when ``proc`` exits first or after ``timeout``."""
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def wrk(port: int, paths: list[str], seconds: int, connections: int, htmx: bool = False) -> dict:
    """``wrk -t1 -c<connections> -d<seconds>s`` over ``paths`` in turn; the script's summary."""
    exe = shutil.which("wrk")
    if not exe:
        raise SystemExit("wrk not found: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(paths))
    try:
        cmd = [exe, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
               f"http://127.0.0.1:{port}", "--", fh.name]
        if htmx:
            cmd.append("htmx")
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(fh.name)
    for line in out.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[8:])
    raise RuntimeError("wrk gave no summary:\n" + out)
