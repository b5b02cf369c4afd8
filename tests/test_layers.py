"""The package's layers import only downward (docs/architecture.md).

Every ``import`` in ``genro_storage`` is parsed (``ast``, nothing is executed), resolved to
the module it names and placed in a layer; an import of a higher layer, even one made
lazily inside a function, fails the test. There are no exceptions. Nor may a module outside
``backends/`` call a backend class's private method: the backend contract is declared.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "genro_storage"

# The layer order, declared once, lowest first. A module belongs to the layer of the
# longest prefix that names it; other top-level modules are facade (the top-level
# namespace holds only the foundation and the facade).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("errors", "exceptions", "paths", "capabilities", "fileio")),
    ("http", ("http",)),  # sans-I/O: depends on the foundation only
    ("backends", ("backends",)),
    ("engine", ("engine",)),
    ("facade", ("node", "manager", "config", "virtual", "aio", "asyncer_wrapper", "")),
    ("serving", ("serving",)),
    ("integrations", ("integrations",)),
    ("console", ("console", "demo")),  # the console seeds the demo mounts
    ("cli", ("cli", "__main__")),
]


def _layer_of(module: str) -> int:
    """The rank of ``module`` (dotted, relative to the package)."""
    best, rank = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if prefix == "":
                continue
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    if rank == -1:
        return next(i for i, (name, _) in enumerate(LAYERS) if name == "facade")
    return rank


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``name`` imports (relative to the package), at any depth."""
    is_pkg = path.name == "__init__.py"
    package = name.split(".") if is_pkg else name.split(".")[:-1]
    package = [p for p in package if p]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            names: list[str] = []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package[: len(package) - (node.level - 1)]
                base = ".".join(["genro_storage", *base_parts])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            bases = [base]
            names = [alias.name for alias in node.names]
        else:
            continue
        for base in bases:
            if base != "genro_storage" and not base.startswith("genro_storage."):
                continue
            inner = base.removeprefix("genro_storage").removeprefix(".")
            submodules = [f"{inner}.{n}".lstrip(".") for n in names]
            submodules = [m for m in submodules if m in modules]
            targets.update(submodules or [inner])
    targets.discard(name)
    return targets


def _upward() -> set[tuple[str, str]]:
    modules = _modules()
    found = set()
    for name, path in modules.items():
        for target in _imports(name, path, modules):
            if _layer_of(target) > _layer_of(name):
                found.add((name, target))
    return found


def test_no_module_imports_a_higher_layer() -> None:
    upward = sorted(_upward())
    lines = [
        f"{src} ({LAYERS[_layer_of(src)][0]}) imports {dst} ({LAYERS[_layer_of(dst)][0]})"
        for src, dst in upward
    ]
    assert not upward, "upward imports:\n" + "\n".join(lines)


def test_the_checker_sees_relative_absolute_and_lazy_imports(tmp_path: Path) -> None:
    source = (
        "from ..node import StorageNode\n"
        "import genro_storage.serving.app\n"
        "def f():\n"
        "    from .. import manager\n"
        "    from genro_storage.http import core\n"
    )
    path = tmp_path / "copying.py"
    path.write_text(source)
    modules = {"node": path, "manager": path, "http.core": path, "serving.app": path}
    found = _imports("engine.copying", path, modules)
    assert found == {"node", "serving.app", "manager", "http.core"}
    assert _layer_of("serving.app") > _layer_of("engine.copying") > _layer_of("backends.s3")
    assert _layer_of("backends.s3") > _layer_of("http.core") > _layer_of("errors")
    assert _layer_of("some_new_module") == _layer_of("node")


def _private_methods(paths: list[Path]) -> set[str]:
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names.update(
                    item.name
                    for item in node.body
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and item.name.startswith("_")
                    and not item.name.startswith("__")
                )
    return names


def _calls_of(names: set[str], path: Path) -> list[str]:
    """``obj._name`` uses of ``names`` in ``path`` on anything but ``self``/``cls``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in names:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_module_outside_backends_calls_a_backends_private_method() -> None:
    """The backend contract is declared (``StorageBackend``'s hooks, ``FsspecBackend``'s
    ``*_natively()`` and coroutine twins): the engine, the facade, serving and the
    integrations call those, never one of a backend class's own ``_methods``."""
    backends = [p for p in _modules().values() if "backends" in p.relative_to(PACKAGE).parts]
    others = [p for p in _modules().values() if p not in backends]
    names = _private_methods(backends) - _private_methods(others)  # a shared name is ours too
    assert "_check_file_write" in names and "_upload_async" in names  # the checker sees them
    found = [use for path in others for use in _calls_of(names, path)]
    assert not found, "private backend methods called from another layer:\n" + "\n".join(found)
