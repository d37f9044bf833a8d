"""Fake addresses for a simulated cluster, and the client configuration that matches them.

Every DC ``n`` of the cluster gets ``10.0.0.n:443``, ``[fd00::n]:443`` and a media-only
``10.0.1.n:443``: the same dcOptions the cluster hands out in help.getConfig, so that the
client's table before and after the config agree, and the simulated network can tell from an
address which DC (and whether a media address) a connection is for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..client.config import ClientConfig
    from ..server import Cluster, ClusterConfig

__all__ = ["client_config", "cluster_config", "dc_addresses"]


def dc_addresses(dc_count: int, *, ipv6: bool = True, media: bool = True) -> tuple[Any, ...]:
    """The :class:`~sansio_mtdc.server.DcAddress` list: IPv4, IPv6, media-only per DC."""
    from ..server import DcAddress

    out = []
    for dc_id in range(1, dc_count + 1):
        out.append(DcAddress(dc_id, f"10.0.0.{dc_id}", 443))
        if ipv6:
            out.append(DcAddress(dc_id, f"fd00::{dc_id}", 443))
        if media:
            out.append(DcAddress(dc_id, f"10.0.1.{dc_id}", 443, media_only=True))
    return tuple(out)


def cluster_config(dc_count: int = 5, *, ipv6: bool = True, media: bool = True,
                   **options: Any) -> ClusterConfig:
    """A :class:`~sansio_mtdc.server.ClusterConfig` whose DCs have the fake addresses (other
    ``options`` go to ClusterConfig as they are)."""
    from ..server import ClusterConfig

    return ClusterConfig(dc_count=dc_count, addresses=dc_addresses(dc_count, ipv6=ipv6,
                                                                   media=media), **options)


def client_config(cluster: Cluster, **options: Any) -> ClientConfig:
    """A :class:`~sansio_mtdc.client.ClientConfig` for ``cluster``: its endpoints and its RSA
    key, ``api_id=1``, ``api_hash="sim"`` and the cluster's test mode unless ``options`` say
    otherwise."""
    from ..client.config import ClientConfig
    from ..crypto.rsa import REFERENCE_CLUSTER_KEYS, KeyRegistry, reference_cluster_key

    private = cluster.config.private_key
    keys = (REFERENCE_CLUSTER_KEYS if private == reference_cluster_key()
            else KeyRegistry([private.public], read_only=True))
    settings: dict[str, Any] = {"api_id": 1, "api_hash": "sim", "endpoints":
                                tuple(cluster.config.endpoints()), "rsa_keys": keys,
                                "test_mode": cluster.config.test_mode}
    settings.update(options)
    return ClientConfig(**settings)
