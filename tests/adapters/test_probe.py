"""The ``probe`` command end to end over sockets: the reference cluster standing in for Telegram
(through the hidden ``--endpoints-json``), loopback peers that refuse, stay silent or answer
something that is not MTProto, and the real bootstrap addresses as this machine reaches them."""

from __future__ import annotations

import json
import re
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sansio_mtdc.adapters import cli
from sansio_mtdc.adapters.serve import ClusterThread
from sansio_mtdc.crypto.rsa import reference_cluster_key
from sansio_mtdc.server import ClusterConfig

CREDENTIALS = ["--api-id", "1", "--api-hash", "0123456789abcdef"]


def probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(["probe", *CREDENTIALS, *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def endpoints_file(tmp_path: Path, port: int) -> str:
    """What ``serve --config-out`` writes, for one DC at ``127.0.0.1:port``."""
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({
        "dcs": {"2": ["127.0.0.1", port]}, "test_mode": True, "files": [],
        "rsa_public_pem": reference_cluster_key().public.to_pem()}))
    return str(path)


def test_prints_this_dc_the_nearest_dc_and_every_option(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = ClusterConfig(dc_count=3, test_mode=True, nearest_dc=1, country="SE")
    with ClusterThread(config, ipv6_host="::1", sample_size=None) as running:
        running.write_config(tmp_path / "cluster.json")
        status, out, err = probe(capsys, "--dc", "2", "--endpoints-json",
                                 str(tmp_path / "cluster.json"))
    assert (status, err) == (0, "")
    assert out.startswith(f"DC 2 of {tmp_path / 'cluster.json'} answered help.getConfig "
                          f"and help.getNearestDc in ")
    assert "\nthis_dc:     2\n" in out
    assert "\nnearest DC:  1 (country SE, this_dc 2)\n" in out
    assert "\ndc_options (6):\n" in out
    rows = re.findall(r"^ +(\S+)  (\S+) *(.*)$", out.split("dc_options", 1)[1], re.M)
    assert rows[0] == ("id", "address", "flags")
    expected = {(str(dc), f"{host}:{port}", "") for dc, (host, port) in running.addresses.items()}
    expected |= {(str(dc), f"[{host}]:{port}", "ipv6")
                 for dc, (host, port) in running.ipv6_addresses.items()}
    assert set(rows[1:]) == expected


def test_an_error_answer_is_status_1(tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cluster.json"
    cluster = ClusterThread(ClusterConfig(dc_count=2, test_mode=True), sample_size=None)
    with cluster as running:
        running.write_config(path)
        # every request of the key is refused, as Telegram refuses an unknown application
        cluster.call(lambda c: c.inject_error(400, "API_ID_INVALID", times=10))
        status, out, err = probe(capsys, "--endpoints-json", str(path))
    assert (status, out) == (1, "")
    assert err == (f"probe: DC 2 of {path} answered 400 API_ID_INVALID "
                   f"(check --api-id and --api-hash)\n")


def test_a_refused_connect_is_one_line_and_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    path = endpoints_file(tmp_path, port)
    status, out, err = probe(capsys, "--endpoints-json", path)
    assert (status, out) == (2, "")
    assert err == f"probe: could not reach DC 2 of {path} (127.0.0.1:{port}): connection refused\n"


class _Http400(socketserver.BaseRequestHandler):
    """What answers on port 443 when a gateway, not Telegram, is on the path."""

    def handle(self) -> None:
        self.request.recv(1024)
        self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n"
                             b"content-length: 0\r\n\r\n")


@pytest.fixture
def http_server() -> Iterator[int]:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Http400) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()
        thread.join()


def test_something_that_is_not_mtproto_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], http_server: int) -> None:
    path = endpoints_file(tmp_path, http_server)
    status, out, err = probe(capsys, "--endpoints-json", path)
    assert (status, out) == (2, "")
    assert err.startswith(f"probe: could not reach DC 2 of {path} (127.0.0.1:{http_server}): "
                          f"a connection opened, but what answered is not an MTProto server (")
    assert err.count("\n") == 1


def test_a_silent_peer_ends_within_the_timeout(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as silent:  # the kernel accepts; nobody ever reads or answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        path = endpoints_file(tmp_path, silent.getsockname()[1])
        status, out, err = probe(capsys, "--endpoints-json", path, "--timeout", "0.5")
    assert (status, out) == (2, "")
    assert err.startswith(f"probe: could not reach DC 2 of {path} (127.0.0.1:")
    assert "the connection closed before the handshake finished" in err


@pytest.mark.parametrize(("args", "known"), [(["--dc", "7"], "1, 2, 3, 4, 5"),
                                             (["--test", "--dc", "4"], "1, 2, 3")])
def test_a_dc_outside_the_table_is_refused(capsys: pytest.CaptureFixture[str],
                                           args: list[str], known: str) -> None:
    status, out, err = probe(capsys, *args)
    assert (status, out) == (2, "")
    assert err == f"probe: DC {args[-1]} is not in the table (DCs {known})\n"


def test_telegram_as_this_machine_reaches_it() -> None:
    """Written for a machine without a route to Telegram (where the suite runs): whatever stands
    in the way (no route, a gateway answering HTTP), the probe says so in one line, status 2."""
    done = subprocess.run([sys.executable, "-m", "sansio_mtdc", "probe", *CREDENTIALS,
                           "--timeout", "10"], capture_output=True, text=True, timeout=60)
    if "this_dc:" in done.stdout:
        pytest.skip("Telegram answered from here")
    assert (done.returncode, done.stdout) == (2, "")
    assert re.fullmatch(r"probe: (could not reach|no answer from) Telegram production DC 2 "
                        r"\(149\.154\.167\.51:443, [^)]+\)(: .+| within 10 s.*)\n", done.stderr)
