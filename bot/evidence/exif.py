"""Capture time and position from an image's EXIF (Pillow), for reviewers to judge.

EXIF times carry no zone unless the camera wrote `OffsetTimeOriginal`; phones in the
county are on local time, so a bare time is read in the campaign's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, UnidentifiedImageError

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


def read_exif(path: Path, zone: ZoneInfo) -> ExifInfo:
    """What the image says about itself; nothing (not an error) for non-images."""
    try:
        with Image.open(path) as image:
            tags = image.getexif()
            base = dict(tags)
            exif = dict(tags.get_ifd(_EXIF_IFD))
            gps = dict(tags.get_ifd(_GPS_IFD))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return ExifInfo()
    return exif_from_tags(base, exif, gps, zone)
