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
