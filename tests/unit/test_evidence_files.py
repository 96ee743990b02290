"""EXIF reading, the content-addressed store and the album debouncer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.evidence.albums import Debouncer
from bot.evidence.exif import exif_from_tags, parse_exif_time, read_exif
from bot.evidence.store import LocalEvidenceStore, sha256_of
from tests.utils.evidence_files import jpeg

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_exif_time_and_position_from_a_real_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg(taken=datetime(2026, 11, 20, 10, 15), gps=(-33.8568, -70.6483)))
    info = read_exif(path, SHANGHAI)
    assert info.taken_at == datetime(2026, 11, 20, 2, 15, tzinfo=UTC)
    assert (info.latitude, info.longitude) == (-33.8568, -70.6483)


def test_no_exif_and_non_images_give_nothing(tmp_path: Path) -> None:
    plain, pdf = tmp_path / "plain.jpg", tmp_path / "a.pdf"
    plain.write_bytes(jpeg())
    pdf.write_bytes(b"%PDF-1.4 not an image")
    assert read_exif(plain, SHANGHAI).taken_at is None
    assert read_exif(pdf, SHANGHAI).has_position is False


def test_compressed_copy_loses_exif(tmp_path: Path) -> None:
    original = tmp_path / "o.jpg"
    original.write_bytes(jpeg(taken=datetime(2026, 1, 1, 8, 0)))
    recompressed = tmp_path / "r.jpg"
    with Image.open(original) as image:
        image.save(recompressed, "JPEG", quality=80)
    assert read_exif(original, SHANGHAI).taken_at is not None
    assert read_exif(recompressed, SHANGHAI).taken_at is None


@pytest.mark.parametrize(
    ("value", "offset", "expected"),
    [
        ("2026:11:20 10:15:00", None, datetime(2026, 11, 20, 2, 15, tzinfo=UTC)),
        ("2026:11:20 10:15:00", "+09:00", datetime(2026, 11, 20, 1, 15, tzinfo=UTC)),
        ("2026:11:20 10:15:00\x00", "-05:30", datetime(2026, 11, 20, 15, 45, tzinfo=UTC)),
        ("0000:00:00 00:00:00", None, None),
        ("    :  :     :  :  ", None, None),
        (None, None, None),
    ],
)
def test_parse_exif_time(value: object, offset: object, expected: datetime | None) -> None:
    assert parse_exif_time(value, offset, SHANGHAI) == expected


def test_impossible_gps_is_dropped() -> None:
    info = exif_from_tags({}, {}, {1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},
                          SHANGHAI)
    assert info.latitude is None and info.longitude is None


def test_store_keeps_one_copy_per_content(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path / "evidence")
    first, second = store.scratch_dir() / "1", store.scratch_dir() / "2"
    first.write_bytes(b"same bytes")
    second.write_bytes(b"same bytes")
    a, b = store.put_file(first), store.put_file(second)
    assert a.sha256 == b.sha256 and (a.created, b.created) == (True, False)
    assert not first.exists() and not second.exists()
    path = store.path_of(a.sha256)
    assert path.parent.name == a.sha256[:2] and path.read_bytes() == b"same bytes"
    assert sha256_of(path) == (a.sha256, 10) and store.size(a.sha256) == 10
    with store.open(a.sha256) as stream:
        assert stream.read() == b"same bytes"


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab", "Z" * 64])
def test_store_refuses_names_that_are_not_hashes(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        LocalEvidenceStore(tmp_path).path_of(bad)


async def test_debouncer_runs_once_after_the_last_touch() -> None:
    runs: list[str] = []
    debouncer = Debouncer(0.05)

    async def act() -> None:
        runs.append("album")

    for _ in range(4):
        debouncer.touch("album", act)
        await asyncio.sleep(0.02)
    assert runs == []
    await asyncio.sleep(0.1)
    assert runs == ["album"] and debouncer.pending() == 0


async def test_debouncer_drain_and_cancel() -> None:
    runs: list[str] = []

    async def act() -> None:
        runs.append("x")

    debouncer = Debouncer(60)
    debouncer.touch("a", act)
    await debouncer.drain()
    assert runs == ["x"]
    debouncer.touch("b", act)
    debouncer.cancel_all()
    await asyncio.sleep(0)
    assert runs == ["x"] and debouncer.pending() == 0
