"""Real files for evidence tests: JPEGs with (or without) EXIF capture time and GPS."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime
from fractions import Fraction

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL = 0x9003


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction((value - degrees - minutes / 60) * 3600).limit_denominator(10000)
    return (IFDRational(degrees, 1), IFDRational(minutes, 1),
            IFDRational(seconds.numerator, seconds.denominator))


def jpeg(
    *,
    taken: datetime | None = None,
    gps: tuple[float, float] | None = None,
    color: tuple[int, int, int] = (180, 40, 40),
    size: tuple[int, int] = (64, 48),
) -> bytes:
    """A small JPEG; `taken` is written as a bare local DateTimeOriginal, as phones do."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        lat, lon = gps
        exif.get_ifd(GPS_IFD).update({
            1: "N" if lat >= 0 else "S", 2: _dms(lat),
            3: "E" if lon >= 0 else "W", 4: _dms(lon),
        })
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=85)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """About 120 bytes of PNG whose header declares `width`×`height` pixels: opening it
    in Pillow raises DecompressionBombError before a single pixel is read."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"tEXt", b"Comment\x00" + b"x" * 31)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))


def broken_png() -> bytes:
    """A PNG cut off in its header: named and typed as an image, not one."""
    return png_bomb(64, 48)[:30]


def webp_with_broken_exif() -> bytes:
    """A good WebP image whose EXIF block has a mangled byte order, so Pillow cannot
    parse it (`SyntaxError: not a TIFF file`) though the picture itself is fine."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 20)).save(
        buffer, "WEBP", exif=b"MM\xf2*\x00\x00\x00\x08" + b"\x00" * 6)
    return buffer.getvalue()
