"""Capture time and position from an image's EXIF (Pillow), for reviewers to judge, and
the check that an image sent as a file is one.

EXIF times carry no zone unless the camera wrote `OffsetTimeOriginal`; phones in the
county are on local time, so a bare time is read in the campaign's zone.

Nothing here decodes pixels: opening an image reads its header, so a file that declares
a huge size in a few bytes (a decompression bomb) costs nothing to look at; Pillow refuses
it at open (`DecompressionBombError`, twice `Image.MAX_IMAGE_PIXELS`), and so do we.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, UnidentifiedImageError

from bot.core.errors import DomainError
from bot.core.parsing import ascii_int

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_DATETIME_DIGITIZED = 0x9004
_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4
MIN_YEAR, MAX_YEAR = 1900, 2100


@dataclass(frozen=True)
class ExifInfo:
    taken_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    # The image is fine but its EXIF block could not be parsed (a corrupt camera write, an
    # editor's bug): reviewers see "no capture data" and the uploader is told why.
    unreadable: bool = False

    @property
    def has_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def parse_exif_time(value: Any, offset: Any, zone: ZoneInfo) -> datetime | None:
    """`2026:11:20 10:15:00` (+ optional `+08:00`) → an aware instant; junk → None."""
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    # A camera whose clock was never set writes year 1 or 9999; such an instant may not
    # even convert to UTC, and says nothing to a reviewer.
    if not MIN_YEAR <= naive.year <= MAX_YEAR:
        return None
    tz: timezone | ZoneInfo = zone
    if isinstance(offset, str):
        text = offset.strip("\x00 ").strip()
        sign = -1 if text.startswith("-") else 1
        hours, _, minutes = text.lstrip("+-").partition(":")
        hour, minute = ascii_int(hours, 0, 23), ascii_int(minutes, 0, 59)
        if hour is not None and minute is not None:
            tz = timezone(sign * timedelta(hours=hour, minutes=minute))
    return naive.replace(tzinfo=tz)


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    result = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if str(ref).strip("\x00 ").upper() in ("S", "W"):
        result = -result
    return round(result, 6)


def exif_from_tags(
    base: dict[int, Any], exif: dict[int, Any], gps: dict[int, Any], zone: ZoneInfo
) -> ExifInfo:
    taken = parse_exif_time(
        exif.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME_DIGITIZED) or base.get(_DATETIME),
        exif.get(_OFFSET_TIME_ORIGINAL),
        zone,
    )
    lat = _degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF)) if _GPS_LAT in gps else None
    lon = _degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF)) if _GPS_LON in gps else None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return ExifInfo(taken, lat, lon)


class ImageRefused(DomainError):
    """An image file that is not stored: it cannot be opened, or it declares more pixels
    than any camera takes."""


# Extensions Pillow reads here; other images (HEIC without a plugin, say) are stored as
# they are, without EXIF, since not being able to open them says nothing about them.
_CHECKED = frozenset({"jpg", "jpeg", "png", "webp", "tif", "tiff", "gif", "bmp"})
_CHECKED_MIME = frozenset({"image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif",
                           "image/bmp"})


def _tags(image: Image.Image) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    tags = image.getexif()
    return dict(tags), dict(tags.get_ifd(_EXIF_IFD)), dict(tags.get_ifd(_GPS_IFD))


def inspect_image(path: Path, zone: ZoneInfo, *, extension: str, mime_type: str) -> ExifInfo:
    """The EXIF of an image sent as a file; ImageRefused when it is not a usable image.

    A decompression bomb and a file Pillow cannot identify although its name or type says
    it could are refused; an EXIF block that cannot be parsed leaves the image stored
    with `unreadable` set. Blocking: run it in a worker thread.
    """
    checked = extension in _CHECKED or mime_type.lower() in _CHECKED_MIME
    try:
        with Image.open(path) as image:
            width, height = image.size
            try:
                base, exif, gps = _tags(image)
            except Exception:
                # Malformed EXIF raises nearly anything (struct.error, KeyError, …); it
                # is the camera's data, not the image.
                return ExifInfo(unreadable=True)
            image.verify()  # chunk structure and checksums, without decoding pixels
    except Image.DecompressionBombError as exc:
        raise ImageRefused("evidence.refused.image_too_large", megapixels=_megapixels(exc),
                           limit=f"{2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:,.0f}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        if checked:
            raise ImageRefused("evidence.refused.broken_image") from exc
        return ExifInfo()
    if width <= 0 or height <= 0:
        raise ImageRefused("evidence.refused.broken_image")
    try:
        return exif_from_tags(base, exif, gps, zone)
    except Exception:
        return ExifInfo(unreadable=True)


def _megapixels(exc: Exception) -> str:
    """How many megapixels the refused file declares, from Pillow's message (`?` if the
    wording ever changes): reading the header again would mean lifting the limit."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return f"{int(found.group(1)) / 1e6:,.0f}" if found else "?"


def read_exif(path: Path, zone: ZoneInfo) -> ExifInfo:
    """What the image says about itself; nothing (not an error) for non-images, broken
    images, decompression bombs or unreadable EXIF."""
    try:
        return inspect_image(path, zone, extension="", mime_type="")
    except ImageRefused:
        return ExifInfo()
