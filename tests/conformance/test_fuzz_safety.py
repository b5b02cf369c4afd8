"""Hostile paths against every destructive and reading operation, on every writable backend.

Each backend gets two mounts of the same place: ``outer`` (a fresh folder, prefix or
base path) and ``m``, its sub-folder ``m``. Canary files live in ``outer`` beside ``m``
(``secret.txt``, ``mx/secret.txt``: a sibling whose name starts like the mount's); on
local disk, symlinks inside ``m`` point at them, at ``outer`` and at ``m`` itself. Then
every path of the shared corpus (:mod:`tests.hostile_paths`) and a bounded hypothesis
run go through ``node()``, ``child()`` and every operation (a spelling whose node has the
normalized path of a node already attacked is counted, not sent again: the backend would
get the same calls), and the suite asserts:

* no read returns a byte of a canary;
* nothing outside ``m`` is created, changed or removed (``outer`` listed before/after);
* the mount root (and so the bucket, container or share) still exists;
* every refusal is an ordinary error (``OSError``, ``ValueError``, ``TypeError``,
  ``StorageError``...), never a crash of another kind.

The counts (cases, backends, escapes) are printed at the end of each backend's run.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from genro_storage import StorageManager
from genro_storage.errors import StorageError
from tests.conformance.conftest import _mark
from tests.conformance.targets import WRITABLE, Target, writable_config
from tests.hostile_paths import DOTS, MOUNT_TRICKS, PATHS, SECRET_NAME, SEPARATORS, hostile_path

CANARY = f"CANARY-{uuid.uuid4().hex}".encode()
LINKS = {  # local disk only: name inside m -> target
    "up": "..",
    "sec": f"../{SECRET_NAME}",
    "selflink": ".",
    "abs": None,  # absolute path of outer/secret.txt, filled in per test
    "sib": "../mx",
}
LINK_PATHS = [
    "up", f"up/{SECRET_NAME}", "up/m/inside/keep.txt", "sec", "selflink", "selflink/.",
    "selflink/inside", "abs", "sib", f"sib/{SECRET_NAME}", "up/mx", "./up", "inside/../up",
]  # fmt: skip
EXTRA = ["mx", f"mx/{SECRET_NAME}", f"../mx/{SECRET_NAME}", "m", "m/..", "inside", "inside/"]
#: remote backends: one network round trip per operation, and clients that retry odd
#: keys with back-off (control characters: ~50 s on s3fs), so a bounded sample of the
#: spellings that aim at the root, the parent and sibling mounts
REMOTE_PATHS = [*DOTS[:12], *SEPARATORS[:9], *MOUNT_TRICKS[:6], "a" * 255]
FAST = ("local", "memory")
#: ordinary failures of a refused or impossible operation
EXPECTED = (OSError, ValueError, TypeError, StorageError, NotImplementedError)
OBJECT_STORES = ("s3", "s3-obstore", "gcs", "azure")


def _configs(target: Target, env: dict[str, str], tmp: Path) -> tuple[dict[str, Any], ...]:
    """``(outer, inner)`` configs: a fresh place and its sub-folder ``m``."""
    config = writable_config(target, env, tmp)
    config.pop("_mkdir", None)
    tag = f"fuzz-{uuid.uuid4().hex[:8]}"
    name = target.name
    if name == "local":
        (tmp / tag / "m").mkdir(parents=True)
        return dict(config, path=str(tmp / tag)), dict(config, path=str(tmp / tag / "m"))
    if name == "memory":
        return {"type": "memory", "base_path": tag}, {"type": "memory", "base_path": f"{tag}/m"}
    if name in OBJECT_STORES:
        return dict(config, prefix=tag), dict(config, prefix=f"{tag}/m")
    base = str(config["path"]).rstrip("/").rsplit("/", 1)[0]
    return dict(config, path=f"{base}/{tag}"), dict(config, path=f"{base}/{tag}/m")


class Fuzz:
    """One backend's two mounts, its canaries and the counters."""

    def __init__(self, target: Target, tmp: Path) -> None:
        self.target = target
        outer, inner = _configs(target, target.env(), tmp)
        self.manager = StorageManager(env=False)
        self.manager.configure([{"name": "outer", **outer}, {"name": "m", **inner}])
        if target.name not in OBJECT_STORES:
            self.manager.node("outer:").mkdir(parents=True, exist_ok=True)
            self.manager.node("outer:m").mkdir(parents=True, exist_ok=True)
        self.manager.node(f"outer:{SECRET_NAME}").write_bytes(CANARY)
        self.manager.node(f"outer:mx/{SECRET_NAME}").write_bytes(CANARY)
        self.links = target.name == "local"
        self.root = Path(inner["path"]) if self.links else None
        self.secret = Path(outer["path"]) / SECRET_NAME if self.links else None
        self.cases = 0
        self.attacked: set[str] = set()  # normalized paths of ``m`` already attacked
        self.escapes: list[str] = []
        self.crashes: list[str] = []
        self.before = self.outside()

    def outside(self) -> dict[str, bytes]:
        """Every file of ``outer`` that is not under ``m``, with its content."""
        out = {}
        for node, entry in self.manager.node("outer:").walk():
            rel = entry.path
            if rel == "m" or rel.startswith("m/") or entry.is_dir:
                continue
            out[rel] = node.read_bytes()
        return out

    def reset_inside(self) -> None:
        """Put back what a previous case may have removed or added inside ``m``."""
        keep = {"inside", "empty", *(LINKS if self.links else ())}
        with contextlib.suppress(Exception):
            for child in self.manager.node("m:").children():
                if child.basename not in keep:
                    child.delete()
        self.manager.node("m:inside/keep.txt").write_bytes(b"inside")
        self.manager.node("m:empty").mkdir(parents=True, exist_ok=True)
        if self.root is not None:
            for name, link in LINKS.items():
                if not os.path.lexists(self.root / name):
                    os.symlink(link or str(self.secret), self.root / name)

    # ---------------------------------------------------------------- one case
    def attempt(self, label: str, action: Callable[[], Any]) -> None:
        self.cases += 1
        try:
            result = action()
        except EXPECTED:
            return
        except Exception as exc:  # anything else is a crash worth reporting
            self.crashes.append(f"{type(exc).__name__} in {label[:100]}: {str(exc)[:200]}")
            return
        if _leaks(result):
            self.escapes.append(f"{label}: read a canary")

    def nodes(self, path: str) -> Iterator[tuple[str, Callable[[], Any]]]:
        """The ways a user builds a node from ``path`` (two on remote backends)."""
        m = self.manager
        yield f"node('m:{path!r}')", lambda: m.node(f"m:{path}")
        yield f"child({path!r})", lambda: m.node("m:").child(path)
        if self.target.name in FAST:
            yield f"node('m', {path!r})", lambda: m.node("m", path)
            yield f"node({path!r})", lambda: m.node(path)  # 'other:x', 'm::x'

    def run(self, path: str, destructive: bool = True) -> None:
        ran = False
        for how, make in self.nodes(path):
            try:
                node = make()
            except EXPECTED:
                self.cases += 1
                continue
            except Exception as exc:
                self.crashes.append(f"{type(exc).__name__} in {how[:100]}: {str(exc)[:200]}")
                continue
            if node.mount_name != "m":  # another mount, by name: not this suite's concern
                continue
            # A backend sees a node's mount and normalized path, nothing of how it was
            # spelled: a node equal to one already attacked would send the same calls.
            if node.path in self.attacked:
                self.cases += 1
                continue
            self.attacked.add(node.path)
            ran = True
            for label, action in _operations(node, destructive):
                self.attempt(f"{how}.{label}", action)
        if ran:
            self.check(path)

    def check(self, path: str) -> None:
        if not self.manager.node("m:").isdir and self.target.name not in OBJECT_STORES:
            self.escapes.append(f"{path!r}: the mount root is gone")
        if not self.manager.node("outer:").isdir:
            self.escapes.append(f"{path!r}: the bucket/share/folder above the mount is gone")
        after = self.outside()
        if after != self.before:
            changed = sorted(set(after) ^ set(self.before)) or sorted(
                k for k in after if after[k] != self.before.get(k)
            )
            self.escapes.append(f"{path!r}: touched outside the mount: {changed}")
            self.before = after
        self.reset_inside()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            for child in self.manager.node("outer:").children():
                child.delete()
        self.manager.close()


def _leaks(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray)):
        return CANARY in value
    if isinstance(value, str):
        return CANARY.decode() in value
    if isinstance(value, (list, tuple)):
        return any(_leaks(v) for v in value)
    return False


def _read_all(node: Any) -> bytes:
    with node.open("rb") as fh:
        return bytes(fh.read())


def _walk(node: Any) -> list[Any]:
    out = []
    for child, _entry in node.walk():
        if child.isfile:
            out.append(child.read_bytes())
        if len(out) > 20:
            break
    return out


def _operations(node: Any, destructive: bool) -> list[tuple[str, Callable[[], Any]]]:
    reads: list[tuple[str, Callable[[], Any]]] = [
        ("exists", lambda: node.exists),
        ("stat", lambda: node.stat()),
        ("read_bytes", node.read_bytes),
        ("open_rb", lambda: _read_all(node)),
        ("children", lambda: [c.basename for c in node.children()]),
        ("walk", lambda: _walk(node)),
        ("md5hash", lambda: node.md5hash),
        ("copy_to", lambda: node.copy_to("m:copied") and _walk(node._manager.node("m:copied"))),
    ]
    if not destructive:
        return reads
    return [
        *reads,
        ("write_bytes", lambda: node.write_bytes(b"fuzz")),
        ("open_wb", lambda: _write(node)),
        ("mkdir", lambda: node.mkdir(parents=True, exist_ok=True)),
        ("move_to", lambda: node.move_to("m:moved")),
        ("delete", node.delete),
        ("sync_delete", lambda: node._manager.node("m:empty").sync_to(node, delete=True)),
    ]


def _write(node: Any) -> None:
    with node.open("wb") as fh:
        fh.write(b"fuzz")


@pytest.fixture(params=[_mark(t) for t in WRITABLE])
def fuzz(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fuzz]:
    state = Fuzz(request.param, tmp_path)
    state.reset_inside()
    yield state
    state.close()


def _report(fuzz: Fuzz, kind: str) -> None:
    print(
        f"\nfuzz {kind} [{fuzz.target.name}]: {fuzz.cases} cases, "
        f"escapes={len(fuzz.escapes)}, crashes={len(fuzz.crashes)}"
    )
    assert fuzz.escapes == [], fuzz.escapes[:10]
    assert fuzz.crashes == [], fuzz.crashes[:10]


def test_hostile_path_corpus_escapes_nothing(fuzz: Fuzz) -> None:
    if fuzz.target.name in FAST:
        corpus = [*PATHS, *EXTRA, *(LINK_PATHS if fuzz.links else [])]
    else:
        corpus = [*REMOTE_PATHS, *EXTRA]
    for path in corpus:
        fuzz.run(path)
    _report(fuzz, "corpus")


@pytest.mark.parametrize("fast", [t for t in WRITABLE if t.name in FAST], ids=lambda t: t.name)
def test_hypothesis_hostile_paths_escape_nothing(fast: Target, tmp_path: Path) -> None:
    fuzz = Fuzz(fast, tmp_path)
    fuzz.reset_inside()
    examples = 60

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=hostile_path())
    def one(path: str) -> None:
        fuzz.run(path)

    try:
        one()
        _report(fuzz, "hypothesis")
    finally:
        fuzz.close()
