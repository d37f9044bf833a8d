"""TL codec: first-use cost, then encode and decode beside Telethon and Pyrogram.

Cases: (a) a ``config`` with 20 ``dcOption``s, (b) an ``upload.file`` of 512 KiB, (c) a
``msg_container`` of 100 messages each holding an ``updateShort``; and a ``pong`` to show the
fixed cost of one small message. Our object is built once;
Telethon's and Pyrogram's are decoded from our bytes (all three use the same constructors), and
each library's re-encoding is checked against ours before anything is timed.

Telethon encodes a container by hand (``MTProtoState`` packs ``msg_id, seq_no, len`` per message);
the same is done here for it, with its own ``bytes(request)`` for the bodies.
"""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from io import BytesIO
from typing import Any

from .harness import fmt_rate, fmt_time, per_call

_FIRST_USE = """
import time
t0 = time.perf_counter()
import sansio_mtdc.tl as tl
t1 = time.perf_counter()
cls = tl.api.types.DcOption
t2 = time.perf_counter()
data = bytes(cls(id=2, ip_address="149.154.167.51", port=443))
obj = tl.decode(data)
t3 = time.perf_counter()
tl.decode(bytes(tl.mtproto.functions.ReqPqMulti(nonce=bytes(16))))
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def _fresh_interpreter(runs: int) -> list[float]:
    samples: list[list[float]] = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _FIRST_USE], capture_output=True, text=True,
                             check=True).stdout
        samples.append([float(x) for x in out.split()])
    return [statistics.median(column) for column in zip(*samples)]


def _first_use(table_factory: Any, quick: bool) -> None:
    from sansio_mtdc.tl import registry
    from sansio_mtdc.tl.schema import parse_schema

    table = table_factory("TL first use (schemas are parsed on first use, never at import)",
                          ["step", "time"])
    import_t, first_class, first_codec, mtproto_first = _fresh_interpreter(3 if quick else 7)
    table.add("import sansio_mtdc.tl (fresh interpreter)", fmt_time(import_t))
    table.add("first api class: parse api.tl + build DcOption", fmt_time(first_class))
    table.add("then encode + decode one DcOption", fmt_time(first_codec))
    table.add("first mtproto class: parse mtproto.tl + ReqPqMulti", fmt_time(mtproto_first))
    from importlib import resources

    for name in ("api", "mtproto"):
        text = resources.files("sansio_mtdc.tl.schemas").joinpath(f"{name}.tl").read_text()
        seconds = per_call(partial(parse_schema, text), quick=quick, repeat=5)
        table.add(f"parse_schema({name}.tl) alone, warm", fmt_time(seconds))
    start = time.perf_counter()
    built = 0
    for name in ("mtproto", "api"):
        classes = registry._SCHEMAS[name]
        for combinator in classes.schema:
            classes.class_for(combinator)
            built += 1
    table.add(f"build every class ({built}), the rest of them",
              fmt_time(time.perf_counter() - start))
    table.print()


def _case_objects() -> dict[str, tuple[Any, Callable[[Any], bytes]]]:
    """case name -> (our object, how Telethon encodes its version of it)"""
    from sansio_mtdc.tl import api

    t = api.types
    options = [
        t.DcOption(id=1 + i % 5, ip_address=(f"2001:b28:f23d:f00{i % 5}::a" if i % 2 else
                                             f"149.154.1{67 + i % 5}.{50 + i}"),
                   port=443 if i % 3 else 80, ipv6=bool(i % 2), media_only=i % 4 == 0,
                   tcpo_only=i % 7 == 0, static=i % 5 == 0,
                   secret=bytes(range(i, i + 16)) if i % 6 == 0 else None)
        for i in range(20)
    ]
    config = t.Config(
        default_p2p_contacts=True, preload_featured_stickers=False, revoke_pm_inbox=True,
        date=1_700_000_000, expires=1_700_003_600, test_mode=False, this_dc=2,
        dc_options=options, dc_txt_domain_name="apv3.stel.com", chat_size_max=200,
        megagroup_size_max=200000, forwarded_count_max=100, online_update_period_ms=210000,
        offline_blur_timeout_ms=5000, offline_idle_timeout_ms=30000,
        online_cloud_timeout_ms=300000, notify_cloud_delay_ms=30000,
        notify_default_delay_ms=1500, push_chat_period_ms=60000, push_chat_limit=2,
        edit_time_limit=172800, revoke_time_limit=2147483647,
        revoke_pm_time_limit=2147483647, rating_e_decay=2419200, stickers_recent_limit=200,
        channels_read_media_period=604800, tmp_sessions=None, call_receive_timeout_ms=20000,
        call_ring_timeout_ms=90000, call_connect_timeout_ms=30000,
        call_packet_timeout_ms=10000, me_url_prefix="https://t.me/",
        autoupdate_url_prefix=None, gif_search_username="gif",
        venue_search_username="foursquare", img_search_username="bing",
        static_maps_provider=None, caption_length_max=1024, message_length_max=4096,
        webfile_dc_id=4, suggested_lang_code="en", lang_pack_version=1,
        base_lang_pack_version=1, reactions_default=t.ReactionEmoji(emoticon="\u2764"),
        autologin_token=None,
    )
    upload = t.upload.File(type=t.storage.FilePartial(), mtime=1_700_000_000,
                           bytes=bytes(range(256)) * 2048)
    from sansio_mtdc.tl import mtproto

    m = mtproto.types
    container = m.MsgContainer(messages=[
        m.Message(msg_id=7_300_000_000_000_000_000 + 4 * i, seqno=2 * i + 1,
                  body=t.UpdateShort(
                      update=t.UpdateUserStatus(
                          user_id=100_000_000 + i,
                          status=t.UserStatusOffline(was_online=1_700_000_000 + i)),
                      date=1_700_000_000 + i))
        for i in range(100)
    ])
    return {
        "pong (small, for scale)": (m.Pong(msg_id=7_300_000_000_000_000_000, ping_id=-5),
                                    lambda o: o._bytes()),
        "config + 20 dcOption": (config, lambda o: o._bytes()),
        "upload.file 512 KiB": (upload, lambda o: o._bytes()),
        "msg_container x100": (container, _telethon_container_bytes),
    }


def _telethon_container_bytes(container: Any) -> bytes:
    import struct

    parts = [struct.pack("<Ii", 0x73F1F8DC, len(container.messages))]
    for message in container.messages:
        body = bytes(message.obj)
        parts.append(struct.pack("<qii", message.msg_id, message.seq_no, len(body)))
        parts.append(body)
    return b"".join(parts)


def _telethon_decode(data: bytes) -> Any:
    from telethon.extensions import BinaryReader

    return BinaryReader(data).tgread_object()


def _pyrogram_decode(data: bytes) -> Any:
    from pyrogram.raw.core import TLObject as PyroObject

    return PyroObject.read(BytesIO(data))


def _codecs(table_factory: Any, quick: bool) -> None:
    from sansio_mtdc.tl import decode

    have_telethon = importlib.util.find_spec("telethon") is not None
    have_pyrogram = importlib.util.find_spec("pyrogram") is not None
    table = table_factory(
        "TL encode / decode (median per call; ratio = their time / ours, >1 means we are faster)",
        ["case", "op", "sansio_mtdc", "telethon", "ratio", "pyrogram", "ratio"])
    for case, (ours, telethon_bytes) in _case_objects().items():
        data = bytes(ours)
        assert decode(data) == ours
        t_ours = per_call(partial(bytes, ours), quick=quick)
        d_ours = per_call(partial(decode, data), quick=quick)
        row_enc: list[str] = [case, "encode", fmt_time(t_ours)]
        row_dec: list[str] = [case, "decode", fmt_time(d_ours)]
        if have_telethon:
            from telethon.extensions import BinaryReader

            theirs = BinaryReader(data).tgread_object()
            assert telethon_bytes(theirs) == data, "telethon re-encodes differently"
            t_enc = per_call(partial(telethon_bytes, theirs), quick=quick)
            t_dec = per_call(partial(_telethon_decode, data), quick=quick)
            row_enc += [fmt_time(t_enc), f"{t_enc / t_ours:.1f}x"]
            row_dec += [fmt_time(t_dec), f"{t_dec / d_ours:.1f}x"]
        else:
            row_enc += ["not installed", ""]
            row_dec += ["not installed", ""]
        if have_pyrogram:
            from pyrogram.raw.core import TLObject as PyroObject

            pyro = PyroObject.read(BytesIO(data))
            assert pyro.write() == data, "pyrogram re-encodes differently"
            p_enc = per_call(pyro.write, quick=quick)
            p_dec = per_call(partial(_pyrogram_decode, data), quick=quick)
            row_enc += [fmt_time(p_enc), f"{p_enc / t_ours:.1f}x"]
            row_dec += [fmt_time(p_dec), f"{p_dec / d_ours:.1f}x"]
        else:
            row_enc += ["not installed", ""]
            row_dec += ["not installed", ""]
        if len(data) > 100_000:
            row_enc[2] += f" ({fmt_rate(len(data), t_ours)})"
            row_dec[2] += f" ({fmt_rate(len(data), d_ours)})"
        table.add(*row_enc)
        table.add(*row_dec)
    table.print()


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    _first_use(table_factory, quick)
    _codecs(table_factory, quick)
