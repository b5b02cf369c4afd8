"""Virtual nodes (no backend, no path): concatenations, diffs, and ZIP archives of nodes."""

from __future__ import annotations

import difflib
import io
import zipfile
from typing import TYPE_CHECKING, Any

from .fileio import CHUNK_SIZE
from .node import StorageNode

if TYPE_CHECKING:
    from .manager import StorageManager

__all__ = ["DiffNode", "IterNode", "VirtualNode", "zip_node"]


class VirtualNode(StorageNode):
    """A readable, unwritable node whose content is computed on read."""

    def __init__(self, manager: StorageManager) -> None:
        super().__init__(manager, None, None)

    @property
    def exists(self) -> bool:
        return False

    def _materialize(self) -> bytes:
        raise NotImplementedError

    def _read_all(self) -> bytes:
        return self._materialize()

    def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> Any:
        yield self._materialize()

    def write(self, *args: Any, **kwargs: Any) -> bool:
        raise ValueError("Cannot write to virtual node (no path): copy it to a real node instead")

    def write_stream(self, chunks: Any, *, content_type: str | None = None) -> None:
        self.write(b"")


class IterNode(VirtualNode):
    """Lazy concatenation of other nodes' content."""

    def __init__(self, manager: StorageManager, nodes: list[StorageNode]) -> None:
        super().__init__(manager)
        self.nodes = list(nodes)

    def read(self, mode: str = "r", encoding: str = "utf-8") -> str | bytes:
        if mode == "rb":
            return b"".join(n.read("rb") for n in self.nodes)  # type: ignore[misc]
        if mode == "r":
            return "".join(n.read("r", encoding) for n in self.nodes)  # type: ignore[misc]
        raise ValueError(f"Invalid read mode {mode!r}: use 'r' or 'rb'")

    def _materialize(self) -> bytes:
        return self.read("rb")  # type: ignore[return-value]

    def append(self, node: StorageNode) -> None:
        self.nodes.append(node)

    def extend(self, *nodes: StorageNode) -> None:
        self.nodes.extend(nodes)

    def zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for node in self.nodes:
                archive.writestr(node.basename or "file", node.read("rb"))
        return buffer.getvalue()


class DiffNode(VirtualNode):
    """Unified diff between two text nodes."""

    def __init__(self, manager: StorageManager, a: StorageNode, b: StorageNode) -> None:
        super().__init__(manager)
        self.a, self.b = a, b

    def _text(self, node: StorageNode) -> str:
        data = node.read("rb")
        assert isinstance(data, bytes)
        if b"\x00" in data:
            raise ValueError("Cannot diff binary files")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("Cannot diff binary files") from None

    def read(self, mode: str = "r", encoding: str = "utf-8") -> str | bytes:
        diff = "".join(
            difflib.unified_diff(
                self._text(self.a).splitlines(keepends=True),
                self._text(self.b).splitlines(keepends=True),
                fromfile=self.a.fullpath,
                tofile=self.b.fullpath,
            )
        )
        if mode == "rb":
            return diff.encode("utf-8")
        if mode == "r":
            return diff
        raise ValueError(f"Invalid read mode {mode!r}: use 'r' or 'rb'")

    def _materialize(self) -> bytes:
        return self.read("rb")  # type: ignore[return-value]

    def zip(self) -> bytes:
        raise AttributeError("diffnode cannot be zipped: copy it to a file first")


def zip_node(node: StorageNode) -> bytes:
    """ZIP of a file (one entry) or a directory (every file, names relative to it)."""
    buffer = io.BytesIO()
    if node.isfile:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(node.basename or "file", node.read("rb"))
        return buffer.getvalue()
    if node.isdir:
        base = node.path or ""
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for child, entry in node.walk():
                if entry.is_dir:
                    continue
                rel = entry.path[len(base) :].lstrip("/") if base else entry.path
                with archive.open(rel, "w") as out:
                    for chunk in child.iter_bytes():
                        out.write(chunk)
        return buffer.getvalue()
    raise ValueError(f"Cannot create ZIP of {node.fullpath}: not a file or directory")
