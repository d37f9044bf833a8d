"""``python -m sansio_mtdc serve`` as a real process: its config file, its log, its signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS
from sansio_mtdc.handshake import ClientHandshake
from sansio_mtdc.handshake.client import ClientState
from sansio_mtdc.server.config import TEST_DC_OFFSET
from sansio_mtdc.transport import Intermediate

PATIENCE = 30.0


def start(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[bytes], dict[str, Any], Path]:
    """Spawn ``serve``; return it with its config once written, and its log file."""
    config_path, log_path = tmp_path / "cluster.json", tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sansio_mtdc", "serve", "--port-base", "0",
             "--config-out", str(config_path), *options],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + PATIENCE
    while not config_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"serve wrote no config:\n{log_path.read_text()}")
        time.sleep(0.01)
    return process, json.loads(config_path.read_text()), log_path


def stop(process: subprocess.Popen[bytes], signum: int) -> int:
    process.send_signal(signum)
    try:
        return process.wait(PATIENCE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def res_pq_from(address: tuple[str, int], dc_id: int) -> ClientState:
    """Send req_pq_multi over intermediate framing; where the handshake stands after the answer."""
    codec = Intermediate("client")
    handshake = ClientHandshake(dc_id=dc_id + TEST_DC_OFFSET, keys=REFERENCE_CLUSTER_KEYS,
                                random=os.urandom, now=time.time())
    with socket.create_connection(address, timeout=PATIENCE) as sock:
        sock.sendall(codec.header() + b"".join(codec.encode(p)
                                               for p in handshake.data_to_send()))
        packets: list[Any] = []
        while not packets:
            data = sock.recv(1 << 16)
            assert data, "the server closed the connection"
            packets = codec.feed(data)
    handshake.receive(packets[0], now=time.time())
    return handshake.state


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_runs_until_a_signal_and_then_exits_cleanly(tmp_path: Path, signum: int) -> None:
    process, config, log_path = start(tmp_path, "--dcs", "3")
    try:
        assert set(config["dcs"]) == {"1", "2", "3"}
        assert config["test_mode"] is True
        assert config["rsa_public_pem"].startswith("-----BEGIN RSA PUBLIC KEY-----")
        assert sorted(f["dc"] for f in config["files"]) == [1, 2, 3]
        assert all(f["size"] > 1024 * 1024 for f in config["files"])
        for dc_id, (host, port) in config["dcs"].items():
            assert res_pq_from((host, port), int(dc_id)) is ClientState.AWAITING_DH_PARAMS
    finally:
        code = stop(process, signum)
    log = log_path.read_text()
    assert code == 0, log
    assert "Traceback" not in log
    assert log.count(" opened") == log.count(" closed (") == 3
    assert "cluster closed" in log
    for host, port in config["dcs"].values():
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, port), timeout=PATIENCE).close()


def test_serve_options_reach_the_cluster_and_the_log(tmp_path: Path) -> None:
    process, config, log_path = start(tmp_path, "--dcs", "2", "--no-test-mode",
                                      "--sample-size", "0", "--log-level", "DEBUG")
    try:
        assert config["test_mode"] is False and config["files"] == []
        assert set(config["dcs"]) == {"1", "2"}
        with socket.create_connection(tuple(config["dcs"]["2"]), timeout=PATIENCE) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert sock.recv(1) == b""  # not a transport: closed
    finally:
        code = stop(process, signal.SIGINT)
    log = log_path.read_text()
    assert code == 0, log
    assert "DC 2: connection 1 <- 18 bytes 474554" in log  # DEBUG shows the bytes
    assert "closed (framing: unknown_transport)" in log


def test_serve_refuses_a_dc_count_it_cannot_run() -> None:
    done = subprocess.run([sys.executable, "-m", "sansio_mtdc", "serve", "--dcs", "10"],
                          capture_output=True, timeout=PATIENCE)
    assert done.returncode == 2
    assert b"--dcs" in done.stderr
