"""The console's embedded default: a local folder and a memory mount, with samples.

The same mounts the demo serves (``files``: local, ``scratch``: memory), plus ``samples``,
a read-only view of ``files:docs``, and a few files worth previewing: an image, a PDF, a
sound, code and text. Everything is generated here (standard library only).
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

from ..demo import build_storage
from ..manager import StorageManager

__all__ = ["default_storage", "sample_png", "sample_pdf", "sample_wav"]


def sample_png(width: int = 160, height: int = 96) -> bytes:
    """A small gradient PNG (RGB, no dependency)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes((40 + x * 200 // width, 90 + y * 120 // height, 200 - x * 80 // width))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def sample_pdf(text: str = "Hello from genro-storage") -> bytes:
    """A one-page PDF showing ``text`` (with a correct cross-reference table)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def sample_wav(seconds: float = 1.5, rate: int = 16000) -> bytes:
    """A short two-tone chime (16-bit mono WAV)."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        tone = 660 if t < seconds / 2 else 880
        value = int(9000 * math.sin(2 * math.pi * tone * t) * math.exp(-2 * (t % (seconds / 2))))
        frames += struct.pack("<h", value)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


_CODE = '''"""Copy a folder between two mounts, incrementally."""
from genro_storage import StorageManager

storage = StorageManager()
storage.configure("storage.yaml")
storage.node("files:docs").copy_to("scratch:backup/docs", skip="hash")
'''


def default_storage(root: str) -> StorageManager:
    """The demo's mounts on ``root`` (seeded), a read-only ``samples`` view, preview files."""
    storage = build_storage(root)
    media = storage.node("files:media")
    media.child("gradient.png").write_bytes(sample_png())
    media.child("hello.pdf").write_bytes(sample_pdf())
    media.child("chime.wav").write_bytes(sample_wav())
    storage.node("files:code/copy_folder.py").write_text(_CODE)
    storage.node("files:data/config.json").write_text('{"mounts": ["files", "scratch"]}\n')
    storage.configure(
        [{"name": "samples", "type": "relative", "path": "files:docs", "permissions": "readonly"}]
    )
    return storage
