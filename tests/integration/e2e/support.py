"""Helpers to run real ``obsnet`` processes and talk HTTP to them."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OBSNET = str(Path(sys.executable).with_name("obsnet"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request; returns the status and the decoded body (HTTP errors included)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback URLs only
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"obsnet serve exited with {process.returncode}:\n{output}")
        with contextlib.suppress(OSError):
            status, _ = http("GET", f"{base}/health")
            if status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"obsnet serve did not answer on {base} within {seconds} s")


@contextlib.contextmanager
def running_server(*args: str, cwd: Path, executable: str = OBSNET, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``obsnet serve ARGS`` on a free port in ``cwd``; yields its base URL; stops it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [executable, "serve", "--port", str(port), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
