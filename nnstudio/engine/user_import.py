"""Importing a user's Python file the way Python would, so the user's own imports work.

    module = import_user_file("cs231n/classifiers/fc_net.py")   # runs the file's code

A file inside a package (its folder, and maybe the folders above, hold ``__init__.py``)
is imported as part of that package, so ``from ..layers import *`` in cs231n's
``fc_net.py`` works unchanged; the folder above the top package is put on ``sys.path``
for that. A file outside a package becomes a fresh module under a private name. In both
cases the file's own folder is importable while it loads (``from my_helpers import ...``).
``sys.path`` is put back afterwards. Exceptions raised by the file propagate unchanged:
callers turn them into messages with the file's line.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PRIVATE_PREFIX = "nnstudio_custom_"


def package_chain(path: Path) -> list[Path]:
    """The package folders containing ``path``, outermost first ([] outside a package)."""
    chain = []
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        chain.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    return list(reversed(chain))


def module_name_for(path: Path) -> str:
    """The dotted name ``path`` is imported under (see the module docstring)."""
    chain = package_chain(path)
    if chain and path.stem.isidentifier():
        return ".".join([folder.name for folder in chain] + [path.stem])
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"{PRIVATE_PREFIX}{path.stem}_{digest}"


def import_user_file(path: str | Path, source: str | None = None) -> ModuleType:
    """Run ``path`` as a fresh module and return it (re-running it if it was loaded before).

    Parameters
    ----------
    path : str or Path
        A Python file.
    source : str, optional
        The file's text, if the caller has already read it.

    Raises
    ------
    Exception
        Whatever the file's code raises, with ``sys.modules`` and ``sys.path`` cleaned up.
    """
    path = Path(path).expanduser().resolve()
    if source is None:
        source = path.read_text(encoding="utf-8")
    name = module_name_for(path)
    chain = package_chain(path) if not name.startswith(PRIVATE_PREFIX) else []
    added = [str(path.parent)] + ([str(chain[0].parent)] if chain else [])
    saved_path = list(sys.path)
    for folder in reversed(added):
        sys.path.insert(0, folder)
    previous = sys.modules.get(name)
    try:
        if chain:
            _forget_other_package(chain[0])
            importlib.import_module(name.rpartition(".")[0])  # the parent packages first
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None  # a path ending in .py always has a source loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses, pickling and relative imports look here
        try:
            exec(compile(source, str(path), "exec"), module.__dict__)
        except BaseException:
            if previous is not None:
                sys.modules[name] = previous
            else:
                sys.modules.pop(name, None)
            raise
        if chain:
            setattr(sys.modules[name.rpartition(".")[0]], path.stem, module)
        return module
    finally:
        sys.path[:] = saved_path


def _forget_other_package(top: Path) -> None:
    """Drop a same-named package imported from another folder (another student's copy
    of ``cs231n``): its modules would otherwise answer this file's imports."""
    loaded = sys.modules.get(top.name)
    if loaded is None:
        return
    locations = [Path(p).resolve() for p in getattr(loaded, "__path__", [])]
    if top.resolve() in locations:
        return
    for key in [key for key in sys.modules if key == top.name or key.startswith(top.name + ".")]:
        del sys.modules[key]


__all__ = ["PRIVATE_PREFIX", "import_user_file", "module_name_for", "package_chain"]
