"""A simulated network for the client machine: a reference cluster, a virtual clock, latency,
faults, and round trips counted.

Shipped with the library so that users can test their own code (an adapter, an application's
request logic) against many DCs without sockets or waiting:

* :class:`SimNetwork` (:mod:`.network`): runs a :class:`~sansio_mtdc.client.Client` against a
  :class:`~sansio_mtdc.server.Cluster`;
* :func:`cluster_config`, :func:`client_config` (:mod:`.addresses`): a cluster with fake
  addresses per DC and the client configuration that reaches it;
* :class:`PacketFault` (:mod:`.faults`): cut, split or delay the N-th packet.
"""

from __future__ import annotations

from .addresses import client_config, cluster_config, dc_addresses
from .faults import PacketFault
from .network import DEFAULT_START, Hop, SimNetwork

__all__ = ["DEFAULT_START", "Hop", "PacketFault", "SimNetwork", "client_config",
           "cluster_config", "dc_addresses"]
