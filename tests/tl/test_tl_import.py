"""Importing the TL package parses nothing; each schema is parsed when first needed."""

from __future__ import annotations

import ast
import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_parses_no_schema() -> None:
    out = _run(
        "import sys\n"
        "import sansio_mtdc\n"
        "print('sansio_mtdc.tl' in sys.modules)\n"
        "import sansio_mtdc.tl, sansio_mtdc.tl.api, sansio_mtdc.tl.mtproto, sansio_mtdc.tl.codec\n"
        "from sansio_mtdc.tl import api, mtproto, decode, read_object, TLObject, LAYER\n"
        "print(LAYER, api.LAYER)\n"
        "print(sorted(m for m in sys.modules if m.startswith('sansio_mtdc.tl.')))\n"
    )
    first, layer, modules = out.splitlines()
    assert first == "False"
    assert layer == "228 228"
    loaded = set(ast.literal_eval(modules))
    assert "sansio_mtdc.tl.schema" not in loaded and "sansio_mtdc.tl.registry" not in loaded
    assert "sansio_mtdc.tl.codegen" not in loaded


def test_each_schema_is_parsed_on_first_use_only() -> None:
    out = _run(
        "from sansio_mtdc.tl import mtproto, decode, registry\n"
        "parsed = lambda: [n for n, c in registry._SCHEMAS.items() if c._schema is not None]\n"
        "print(parsed())\n"
        "obj = decode(bytes(mtproto.functions.ReqPqMulti(nonce=bytes(16))))\n"
        "print(parsed())\n"
        "from sansio_mtdc.tl import api\n"
        "api.types.DcOption\n"
        "print(parsed())\n"
    )
    assert out.splitlines() == ["[]", "['mtproto']", "['mtproto', 'api']"]


def test_threads_racing_to_first_use_share_one_schema_and_one_class() -> None:
    out = _run(
        "import threading\n"
        "from sansio_mtdc.tl import api, decode\n"
        "data = bytes.fromhex('0da1b71800000000020000000131000001000000')\n"
        "seen = []\n"
        "start = threading.Barrier(8)\n"
        "def work():\n"
        "    start.wait()\n"
        "    seen.append((api.types.DcOption, type(decode(data)), api.schema))\n"
        "threads = [threading.Thread(target=work) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "classes = {id(c) for s in seen for c in s[:2]}\n"
        "print(len(seen), len(classes), len({id(s[2]) for s in seen}))\n"
    )
    assert out == "8 1 1"
