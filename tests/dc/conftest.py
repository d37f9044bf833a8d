"""Builders shared by the DC layer's tests: real TL dcOption / config values."""

from __future__ import annotations

from typing import Any

from sansio_mtdc.tl import api

_CONFIG_ZEROS = (
    "chat_size_max", "megagroup_size_max", "forwarded_count_max", "online_update_period_ms",
    "offline_blur_timeout_ms", "offline_idle_timeout_ms", "online_cloud_timeout_ms",
    "notify_cloud_delay_ms", "notify_default_delay_ms", "push_chat_period_ms", "push_chat_limit",
    "edit_time_limit", "revoke_time_limit", "revoke_pm_time_limit", "rating_e_decay",
    "stickers_recent_limit", "channels_read_media_period", "call_receive_timeout_ms",
    "call_ring_timeout_ms", "call_connect_timeout_ms", "call_packet_timeout_ms",
    "caption_length_max", "message_length_max", "webfile_dc_id",
)


def option(dc_id: int, host: str, port: int = 443, **flags: Any) -> Any:
    """A dcOption; ``ipv6`` follows the address unless given."""
    flags.setdefault("ipv6", ":" in host)
    return api.types.DcOption(id=dc_id, ip_address=host, port=port, **flags)


def config(options: list[Any], *, this_dc: int = 2, date: int = 1_000_000,
           expires: int = 1_003_600) -> Any:
    """A help.getConfig answer carrying ``options`` (the other fields are dull)."""
    return api.types.Config(date=date, expires=expires, test_mode=False, this_dc=this_dc,
                            dc_options=options, dc_txt_domain_name="", me_url_prefix="",
                            **dict.fromkeys(_CONFIG_ZEROS, 0))


def all_dcs_plain(hosts_per_dc: int = 1) -> list[Any]:
    """A config with one plain IPv4 and one IPv6 address for each of DCs 1-5."""
    options = []
    for dc_id in range(1, 6):
        for n in range(hosts_per_dc):
            options.append(option(dc_id, f"10.0.{dc_id}.{n + 1}"))
            options.append(option(dc_id, f"fd00::{dc_id}:{n + 1}"))
    return options
