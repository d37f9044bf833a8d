"""``help.*``: the configuration every client asks for first, and the nearest DC."""

from __future__ import annotations

from typing import Any

from ...tl import api
from ..config import ClusterConfig, DcAddress
from .context import RequestContext
from .registry import handles

__all__ = ["dc_options"]

#: the numeric fields of ``config`` that say nothing about DCs, with Telegram's usual values
_CONFIG_VALUES: dict[str, Any] = {
    "dc_txt_domain_name": "apv3.stel.com",
    "chat_size_max": 200,
    "megagroup_size_max": 200000,
    "forwarded_count_max": 100,
    "online_update_period_ms": 210000,
    "offline_blur_timeout_ms": 5000,
    "offline_idle_timeout_ms": 30000,
    "online_cloud_timeout_ms": 300000,
    "notify_cloud_delay_ms": 30000,
    "notify_default_delay_ms": 1500,
    "push_chat_period_ms": 60000,
    "push_chat_limit": 2,
    "edit_time_limit": 172800,
    "revoke_time_limit": 2147483647,
    "revoke_pm_time_limit": 2147483647,
    "rating_e_decay": 2419200,
    "stickers_recent_limit": 200,
    "channels_read_media_period": 604800,
    "call_receive_timeout_ms": 20000,
    "call_ring_timeout_ms": 90000,
    "call_connect_timeout_ms": 30000,
    "call_packet_timeout_ms": 10000,
    "me_url_prefix": "https://t.me/",
    "caption_length_max": 1024,
    "message_length_max": 4096,
}


def _option(address: DcAddress, *, cdn: bool = False) -> Any:
    return api.types.DcOption(
        ipv6=address.ipv6, media_only=address.media_only, tcpo_only=address.tcpo_only,
        cdn=cdn, static=address.static, this_port_only=address.this_port_only,
        id=address.dc_id, ip_address=address.ip_address, port=address.port,
        secret=address.secret)


def dc_options(config: ClusterConfig) -> list[Any]:
    """Every dcOption of the cluster: each served DC's addresses (ordinary first), then the
    CDN DCs."""
    options = [_option(a) for dc_id in config.dc_ids for a in config.options_of(dc_id)]
    options += [_option(a, cdn=True) for a in config.cdn_addresses]
    return options


@handles("help.getConfig")
def get_config(request: Any, ctx: RequestContext) -> Any:
    config = ctx.state.config
    return api.types.Config(
        date=ctx.date, expires=ctx.date + config.config_lifetime, test_mode=config.test_mode,
        this_dc=ctx.dc.id, dc_options=dc_options(config),
        webfile_dc_id=min(4, config.dc_count), **_CONFIG_VALUES)


@handles("help.getNearestDc")
def get_nearest_dc(request: Any, ctx: RequestContext) -> Any:
    config = ctx.state.config
    return api.types.NearestDc(country=config.country, this_dc=ctx.dc.id,
                               nearest_dc=config.nearest_dc)


@handles("help.getCdnConfig")
def get_cdn_config(request: Any, ctx: RequestContext) -> Any:
    # CDN DCs are advertised but not served: there are no CDN keys to hand out
    return api.types.CdnConfig(public_keys=[])
