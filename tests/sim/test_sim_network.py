"""The simulated network itself: latency, connects, faults, ordering, round trips."""

from __future__ import annotations

import pytest

from sansio_mtdc.client.events import ConnectionStateChanged, Failed, Result
from sansio_mtdc.client.machine import Client
from sansio_mtdc.errors import UsageError
from sansio_mtdc.server import Cluster, ClusterConfig
from sansio_mtdc.sim import (
    DEFAULT_START,
    PacketFault,
    SimNetwork,
    client_config,
    cluster_config,
    dc_addresses,
)
from sansio_mtdc.sim.scenarios import World, seeded, send_code_request
from sansio_mtdc.tl import api


def world(**options: object) -> World:
    return World.make(seed="sim", **options)  # type: ignore[arg-type]


def test_addresses_match_the_clusters_config() -> None:
    cluster = Cluster(cluster_config(3), random=seeded(0))
    hosts = {(a.dc_id, a.ip_address, a.media_only) for a in cluster.config.addresses}
    assert (2, "10.0.0.2", False) in hosts and (2, "fd00::2", False) in hosts
    assert (2, "10.0.1.2", True) in hosts
    assert len(dc_addresses(3, ipv6=False, media=False)) == 3
    config = client_config(cluster, dc=3)
    assert config.dc == 3 and config.endpoints is not None
    assert {e.host for e in config.endpoints} == {a.ip_address for a in cluster.config.addresses}


def test_a_cluster_with_its_own_key() -> None:
    from sansio_mtdc.crypto.rsa import RSAPrivateKey

    key = RSAPrivateKey(n=3233, e=17, d=413, p=61, q=53)
    config = ClusterConfig(dc_count=2, private_key=key)
    cluster = Cluster(config, random=seeded(1))
    keys = client_config(cluster).rsa_keys
    assert keys is not None and keys.get(key.public.fingerprint) == key.public


def test_the_help_get_config_addresses_agree_with_the_table() -> None:
    w = world()
    before = {e for dc in w.client.table.dc_ids() for e in w.client.table.endpoints(dc)}
    w.call(api.functions.help.GetConfig())
    after = {e for dc in w.client.table.dc_ids() for e in w.client.table.endpoints(dc)}
    assert before == after


def test_connect_costs_one_round_trip_and_each_packet_the_latency() -> None:
    w = world(latency=0.1)
    start = w.now
    rid = w.invoke(api.functions.help.GetNearestDc())
    w.run(rid)
    assert w.now - start == pytest.approx(1.0)  # connect, three handshake steps, the request
    assert w.net.round_trips(start) == 5.0
    sends = [hop for hop in w.net.log if hop.what == "client sends"]
    assert [round(hop.time - start, 3) for hop in sends] == [0.2, 0.4, 0.6, 0.8]


def test_latency_per_dc() -> None:
    cluster = Cluster(cluster_config(3, nearest_dc=2), random=seeded(2))
    net = SimNetwork(cluster, latency=0.05, dc_latency={2: 0.2})
    client = Client(net.client_config(dc=2), random=seeded(3))
    start = net.now
    rid = client.invoke(api.functions.help.GetNearestDc(), now=net.now)
    net.run(client, until=lambda: net.ended(rid))
    assert net.now - start == pytest.approx(2.0)
    assert net.round_trips(start) == 20


def test_split_packets_arrive_in_two_halves() -> None:
    w = world()
    for step in range(1, 5):
        w.net.split("client", step)
        w.net.split("server", step)
    start = w.now
    rid = w.invoke(send_code_request("9996621234"))
    w.run(rid)
    assert isinstance(w.net.outcome(rid), Result)
    assert w.net.round_trips(start) == 5
    assert all(f.fired for f in w.net.faults)


def test_a_delayed_packet_holds_back_the_ones_behind_it() -> None:
    w = world()
    w.net.delay("server", 1, 0.5)
    start = w.now
    rid = w.invoke(api.functions.help.GetNearestDc())
    w.run(rid)
    assert w.now - start == pytest.approx(0.5 + 0.5)


def test_a_cut_closes_both_ends() -> None:
    w = world()
    fault = w.net.cut("client", 2)
    rid = w.invoke(api.functions.help.GetNearestDc())
    w.run(rid)
    assert fault.fired and fault.fired_at is not None
    closed = [e for e in w.net.of_type(ConnectionStateChanged) if e.state == "closed"]
    assert [e.reason for e in closed] == ["connection lost: cut"]
    assert w.cluster.counters.closes["lost"] == 1
    assert isinstance(w.net.outcome(rid), Result)


def test_cut_only_on_one_dc() -> None:
    w = world()
    fault = w.net.cut("client", 1, dc_id=4)
    rid = w.invoke(api.functions.help.GetNearestDc())
    w.run(rid)
    assert not fault.fired


def test_refused_and_unreachable_addresses_cost_a_round_trip_each() -> None:
    w = world(limits=__import__("sansio_mtdc").Limits(max_reconnects=0))
    w.net.refuse(2)
    start = w.now
    rid = w.invoke(api.functions.help.GetNearestDc())
    w.run(rid)
    assert isinstance(w.net.outcome(rid), Failed)
    assert w.net.round_trips(start) == 2  # the IPv4 and the IPv6 address
    assert any(hop.what == "connect failed" for hop in w.net.log)


def test_a_closed_client_connection_reaches_the_server() -> None:
    w = world()
    w.call(api.functions.help.GetNearestDc())
    assert len(w.cluster.connections()) == 1
    w.client.close(now=w.now)
    w.net.run(w.client, until=lambda: False, max_time=1)
    assert not w.cluster.connections()


def test_the_server_closing_is_reported_after_its_data() -> None:
    w = world()
    w.call(api.functions.help.GetNearestDc())
    w.cluster.connections()[0].close()
    w.net.run(w.client, until=lambda: False, max_time=1)
    closed = [e for e in w.net.of_type(ConnectionStateChanged) if e.state == "closed"]
    assert closed and "local" in (closed[-1].reason or "")


def test_restarted_clients_get_their_own_connection_ids() -> None:
    w = world()
    w.call(api.functions.help.GetNearestDc())
    w.restart()
    assert w.call(api.functions.help.GetNearestDc()).this_dc == 2
    assert w.cluster.counters.connections[2] == 2


def test_run_stops_when_asked_and_reports_quiet() -> None:
    w = world()
    assert w.net.run(w.client) is True  # nothing to do
    rid = w.invoke(api.functions.help.GetNearestDc())
    assert w.net.run(w.client, until=lambda: w.net.ended(rid), max_time=0.1) is False
    assert w.net.run(w.client, until=lambda: w.net.ended(rid)) is True
    assert w.net.settle(w.client)


def test_fault_rules_check_their_arguments() -> None:
    with pytest.raises(UsageError):
        PacketFault("both", 1, "cut")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        PacketFault("client", 0, "cut")
    with pytest.raises(UsageError):
        PacketFault("client", 1, "explode")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        SimNetwork(Cluster(cluster_config(1, nearest_dc=1), random=seeded(0)), latency=0)


def test_the_clock_starts_at_a_real_looking_time() -> None:
    w = world()
    assert w.now == DEFAULT_START
    assert "SimNetwork" in repr(w.net)
