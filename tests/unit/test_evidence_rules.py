"""The plain rules of evidence: file acceptance, task tags, campaign start, quotas."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import EvidenceConfig
from bot.evidence import rules
from db.models import EvidenceKind

CONFIG = EvidenceConfig()
SHANGHAI = ZoneInfo("Asia/Shanghai")
MB = 1024 * 1024


@pytest.mark.parametrize(
    ("kind", "name", "mime", "size", "refused"),
    [
        (EvidenceKind.PHOTO, "", "image/jpeg", 3 * MB, None),
        (EvidenceKind.DOCUMENT, "IMG_1.JPG", "image/jpeg", 100, None),
        (EvidenceKind.DOCUMENT, "报告.pdf", "application/octet-stream", 100, None),
        (EvidenceKind.DOCUMENT, "台账.xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 100, None),
        (EvidenceKind.DOCUMENT, "纪要.wps", "application/wps-office.wps", 100, None),
        (EvidenceKind.DOCUMENT, "", "application/pdf", 100, None),
        (EvidenceKind.DOCUMENT, "setup.exe", "application/x-msdownload", 100, "type"),
        (EvidenceKind.DOCUMENT, "fake.jpg", "application/x-msdownload", 100, "type"),
        (EvidenceKind.DOCUMENT, "clip.mp4", "video/mp4", 100, "type"),
        (EvidenceKind.DOCUMENT, "", "", 100, "type"),
        (EvidenceKind.DOCUMENT, "big.pdf", "application/pdf", 20 * MB + 1, "too_big"),
        (EvidenceKind.PHOTO, "", "image/jpeg", 21 * MB, "too_big"),
        (EvidenceKind.DOCUMENT, "edge.pdf", "application/pdf", 20 * MB, None),
        (EvidenceKind.DOCUMENT, "unknown-size.pdf", "application/pdf", None, None),
    ],
)
def test_check_file(
    kind: EvidenceKind, name: str, mime: str, size: int | None, refused: str | None
) -> None:
    result = rules.check_file(CONFIG, kind=kind, file_name=name, mime_type=mime, size=size)
    assert (result.text_id.rsplit(".", 1)[1] if result else None) == refused


def test_size_refusal_names_both_sizes() -> None:
    result = rules.check_file(CONFIG, kind=EvidenceKind.DOCUMENT, file_name="a.pdf",
                              mime_type="application/pdf", size=int(25.5 * MB))
    assert result is not None and result.params == {"size": 25.5, "limit": 20}


def test_configured_types_replace_the_defaults() -> None:
    only_pdf = EvidenceConfig(allowed_extensions=["pdf"], allowed_mime_types=["application/pdf"])
    assert rules.check_file(only_pdf, kind=EvidenceKind.DOCUMENT, file_name="a.jpg",
                            mime_type="image/jpeg", size=1) is not None


@pytest.mark.parametrize(
    ("caption", "task_id", "description"),
    [("#12 实验室门牌", 12, "实验室门牌"), ("门牌 #7", 7, "门牌"), ("无编号", None, "无编号"),
     ("#3 与 #4", 3, "与 #4"), ("", None, "")],
)
def test_task_tag_and_description(caption: str, task_id: int | None, description: str) -> None:
    assert rules.task_tag(caption) == task_id
    assert rules.description_from(caption) == description


def test_album_task_is_the_first_named() -> None:
    assert rules.first_named_task([None, 5, 6]) == 5
    assert rules.first_named_task([None, None]) is None


def test_campaign_start_prefers_the_first_phase() -> None:
    created = datetime(2026, 10, 1, 20, 0, tzinfo=UTC)  # 10-02 04:00 in Beijing
    assert rules.campaign_start([None, date(2026, 9, 5), date(2026, 9, 1)], created,
                                SHANGHAI) == date(2026, 9, 1)
    assert rules.campaign_start([None], created, SHANGHAI) == date(2026, 10, 2)


def test_captured_before_compares_local_days() -> None:
    start = date(2026, 9, 1)
    late_evening = datetime(2026, 8, 31, 17, 0, tzinfo=UTC)  # 09-01 01:00 in Beijing
    assert not rules.captured_before(late_evening, start, SHANGHAI)
    assert rules.captured_before(datetime(2026, 8, 31, 15, 0, tzinfo=UTC), start, SHANGHAI)
    assert not rules.captured_before(None, start, SHANGHAI)


@pytest.mark.parametrize(
    ("required", "approved", "pending", "missing", "closes"),
    [(0, 0, 0, 0, False), (0, 1, 0, 0, True), (2, 1, 0, 1, False), (2, 2, 1, 0, False),
     (2, 3, 0, 0, True)],
)
def test_quotas(required: int, approved: int, pending: int, missing: int, closes: bool) -> None:
    assert rules.missing_approved(required, approved) == missing
    assert rules.ready_to_close(required, approved, pending) is closes
