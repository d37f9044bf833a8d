"""``python -m sansio_mtdc serve`` as a real subprocess, and what it wrote and logged.

Each test gets a fresh server: its log then tells exactly what that test's client made the
cluster do (keys made, sign-in, authorization exported and imported, transports spoken)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

#: how long a server may take to write its config or to exit before the test fails
PATIENCE = 30.0


class Served:
    """One ``serve`` process: its config file, its log, and how to stop it."""

    def __init__(self, workdir: Path, *options: str) -> None:
        self.config_path = workdir / "cluster.json"
        self.log_path = workdir / "serve.log"
        self._log = self.log_path.open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sansio_mtdc", "serve", "--port-base", "0",
             "--config-out", str(self.config_path), *options],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
        self.config = self._wait_for_config()
        #: seconds from spawning the process to its config file being there
        self.startup = time.perf_counter() - started

    def _wait_for_config(self) -> dict[str, Any]:
        deadline = time.monotonic() + PATIENCE
        while not self.config_path.exists():
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"serve wrote no config in {PATIENCE} s:\n{self.log()}")
            time.sleep(0.01)
        return cast(dict[str, Any], json.loads(self.config_path.read_text()))

    def address(self, dc_id: int, *, ipv6: bool = False) -> tuple[str, int]:
        host, port = self.config["dcs_ipv6" if ipv6 else "dcs"][str(dc_id)]
        return str(host), int(port)

    def file_on(self, dc_id: int) -> dict[str, Any]:
        entries: list[dict[str, Any]] = self.config["files"]
        [entry] = [f for f in entries if f["dc"] == dc_id]
        return entry

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self) -> list[str]:
        """The log's messages (``DC 2: ran auth.signIn``...), without time and level."""
        return re.findall(r"sansio_mtdc\.serve: (.*)", self.log())

    def transports(self) -> set[str]:
        return {m.group(1) for line in self.events()
                if (m := re.search(r"connection \d+ speaks (\w+)", line))}

    def peers(self) -> list[str]:
        """The peer address of every connection the server accepted."""
        return [m.group(1) for line in self.events()
                if (m := re.search(r"connection \d+ from (.*) opened", line))]

    def stop(self, signum: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(PATIENCE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Served]:
    """A five-DC test-mode cluster (IPv6 too when the machine has ::1)."""
    served = Served(tmp_path, "--dcs", "5", *(["--ipv6-host", "::1"] if has_ipv6() else []))
    try:
        yield served
    finally:
        code = served.stop()
    assert code == 0, served.log()


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True
