"""TL, the Type Language: Telegram's binary encoding, its schemas, and Python classes for both.

* :mod:`.api` and :mod:`.mtproto`: the bundled schemas as classes (``api.types.DcOption``,
  ``mtproto.functions.ReqPqMulti``...), made on first use; ``bytes(obj)`` encodes.
* :func:`decode` / :func:`read_object`: any boxed value of either schema from bytes.
* :mod:`.codec`: the primitives (``pack_int``, ``read_string``...) for other layers' hot paths.
* :mod:`.schema`: the ``.tl`` parser, usable on its own.

Importing this package parses no schema.
"""

from __future__ import annotations

from . import api, mtproto
from .api import LAYER
from .decoding import decode, read_object
from .objects import TLFunction, TLObject

__all__ = ["LAYER", "TLFunction", "TLObject", "api", "decode", "mtproto", "read_object"]
