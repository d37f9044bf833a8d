"""``python -m sansio_mtdc``: forwards to the command line in :mod:`sansio_mtdc.adapters`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path


def _adapters_beside_the_source() -> None:
    """Run from the root of a source checkout, ``python -m`` finds ``./sansio_mtdc`` before the
    installed package, and there ``adapters/`` sits beside the core instead of inside it (it is
    installed as ``sansio_mtdc.adapters``): map it to that name, as the installation does."""
    if importlib.util.find_spec("sansio_mtdc.adapters") is not None:
        return
    package = Path(__file__).resolve().parent.parent / "adapters"
    if not (package / "__init__.py").is_file():
        return
    spec = importlib.util.spec_from_file_location(
        "sansio_mtdc.adapters", package / "__init__.py",
        submodule_search_locations=[str(package)])
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sansio_mtdc.adapters"] = module
    spec.loader.exec_module(module)


def main(argv: list[str] | None = None) -> int:
    # Imported by name: the I/O layer is installed beside the core, not part of it.
    _adapters_beside_the_source()
    cli = importlib.import_module("sansio_mtdc.adapters.cli")
    return int(cli.main(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
