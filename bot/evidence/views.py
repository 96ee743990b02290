"""How evidence reads in a chat: upload answers, review cards, album captions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core import callbacks
from bot.core.access import Actor
from bot.core.keyboard import Button, Keyboard
from bot.core.paging import Page, page_buttons
from bot.core.textfit import clip
from bot.evidence.archive import ArchiveLabels
from bot.evidence.batch import BatchOutcome, SkippedFile
from bot.evidence.exif import ExifInfo
from bot.evidence.notices import Notice
from bot.evidence.review import Decision
from bot.evidence.rules import captured_before
from bot.texts import Markup, Texts
from db.models import Evidence, EvidenceKind, EvidenceStatus, TaskStatus

CHOICE_LABEL = 40


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"


def decision_label(texts: Texts, lang: str, status: str) -> str:
    return texts.plain(lang, f"evidence.status.{status}")


def _skipped_line(texts: Texts, lang: str, item: SkippedFile) -> str:
    params = dict(item.params)
    if "status" in params:
        params["status"] = decision_label(texts, lang, str(params["status"]))
    reason = Markup(texts.get(lang, item.text_id, **params))
    return texts.get(lang, "evidence.upload.skipped_line", name=item.file_name, reason=reason)


def _exif_lines(texts: Texts, lang: str, exif: ExifInfo, zone: ZoneInfo) -> list[str]:
    lines = []
    if exif.taken_at is not None:
        lines.append(texts.get(lang, "evidence.upload.exif_time", when=when(exif.taken_at, zone)))
    if exif.has_position:
        lines.append(texts.get(lang, "evidence.upload.exif_gps", lat=exif.latitude,
                               lon=exif.longitude))
    return lines


def upload_answer(
    texts: Texts, outcome: BatchOutcome, zone: ZoneInfo
) -> tuple[str, Keyboard | None]:
    """One reply for one message or album: what was kept, what was not, and why."""
    lang = outcome.language
    lines: list[str] = []
    keyboard: Keyboard | None = None
    if outcome.error is not None:
        lines.append(texts.get(lang, outcome.error.message_id, **outcome.error.params))
    elif outcome.choices and outcome.choice_row_id is not None:
        lines.append(texts.get(lang, "evidence.upload.ask", count=outcome.waiting))
        page = outcome.choice_page or Page.at(0, len(outcome.choices), len(outcome.choices))
        keyboard = choice_keyboard(texts, lang, outcome.choice_row_id, outcome.choices, page)
    elif outcome.task_id is not None:
        lines.extend(_attached_lines(texts, outcome, zone))
        keyboard = _upload_keyboard(texts, outcome)
    if outcome.skipped:
        lines.append(texts.get(lang, "evidence.upload.skipped"))
        lines.extend(_skipped_line(texts, lang, item) for item in outcome.skipped)
    if outcome.retry:
        lines.append(texts.get(lang, "evidence.upload.retry", count=len(outcome.retry)))
        lines.extend(_skipped_line(texts, lang, item) for item in outcome.retry)
    if outcome.photo_hint:
        lines.append(texts.get(lang, "evidence.upload.photo_hint"))
    return "\n".join(lines), keyboard


def _upload_keyboard(texts: Texts, outcome: BatchOutcome) -> Keyboard | None:
    """Submit what was attached; try again what Telegram did not hand over."""
    lang, task_id = outcome.language, outcome.task_id
    rows: list[list[Button]] = []
    if outcome.retry and outcome.retry_row_id is not None and task_id is not None:
        rows.append([Button(texts.plain(lang, "evidence.button.retry"),
                            callbacks.evidence("retry", outcome.retry_row_id, task_id))])
    if outcome.attached and not outcome.submitted and task_id is not None:
        rows.append([Button(texts.plain(lang, "evidence.button.submit"),
                            callbacks.evidence("sub", task_id))])
    return Keyboard.of(rows) if rows else None


def choice_keyboard(
    texts: Texts, lang: str, row: int, choices: Sequence[tuple[int, str]], page: Page
) -> Keyboard:
    """A page of tasks a waiting file may go to, the way to the other pages, and cancel."""
    buttons = [
        [Button(f"#{task_id} {clip(title, CHOICE_LABEL)}", callbacks.evidence("pick", row, task_id))]
        for task_id, title in choices
    ]
    buttons.append(page_buttons(texts, lang, page, lambda at: callbacks.page("pick", row, at)))
    buttons.append([Button(texts.plain(lang, "evidence.button.cancel"),
                           callbacks.evidence("drop", row))])
    return Keyboard.of(buttons)


def album_rest(texts: Texts, lang: str, task_id: int, shown: int, total: int
               ) -> tuple[str, Keyboard]:
    """An album cut short by Telegram's pace: how many are left and the button for them."""
    return (texts.get(lang, "evidence.view.rest", count=total - shown),
            Keyboard.of([[Button(texts.plain(lang, "evidence.button.rest"),
                                 callbacks.page("ev", task_id, shown))]]))


def _attached_lines(texts: Texts, outcome: BatchOutcome, zone: ZoneInfo) -> list[str]:
    lang = outcome.language
    task_id = outcome.task_id
    if not outcome.attached:
        return [texts.get(lang, "evidence.upload.nothing_new", id=task_id, title=outcome.task_title)]
    key = "evidence.upload.attached_submitted" if outcome.submitted else "evidence.upload.attached"
    lines = [texts.get(lang, key, id=task_id, title=outcome.task_title,
                       count=len(outcome.attached))]
    for item in outcome.attached:
        lines.append(texts.get(lang, "evidence.upload.line", evidence_id=item.evidence_id,
                               name=item.file_name))
        lines.extend(_exif_lines(texts, lang, item.exif, zone))
        if item.exif.unreadable:
            lines.append(texts.get(lang, "evidence.upload.exif_unreadable"))
        if item.captured_early and outcome.campaign_start is not None:
            lines.append(texts.get(lang, "evidence.upload.early",
                                   start=outcome.campaign_start.isoformat()))
        if item.also_on:
            lines.append(texts.get(lang, "evidence.upload.also_on",
                                   tasks=", ".join(f"#{t}" for t in item.also_on)))
    key = "evidence.upload.counts" if outcome.required else "evidence.upload.counts_free"
    lines.append(texts.get(lang, key, approved=outcome.approved, pending=outcome.pending,
                           required=outcome.required))
    if outcome.submitted:
        lines.append(texts.get(lang, "evidence.upload.submitted_hint"))
    else:
        lines.append(texts.get(lang, "evidence.upload.submit_hint", id=task_id))
    return lines


def review_card(
    texts: Texts, lang: str, evidence: Evidence, *, remaining: int, approved: int,
    campaign_start: date, zone: ZoneInfo,
) -> tuple[str, Keyboard]:
    """The caption under the file a reviewer judges, with the decision buttons."""
    task = evidence.task
    lines = [
        texts.get(lang, "evidence.review.title", evidence_id=evidence.id, remaining=remaining),
        texts.get(lang, "evidence.review.task", task_id=task.id, title=task.title),
        texts.get(lang, "evidence.review.who", unit=task.unit.name if task.unit else "—",
                  owner=task.owner.name if task.owner else "—"),
        texts.get(lang, "evidence.review.uploaded",
                  uploader=evidence.uploader.name if evidence.uploader else "—",
                  when=when(evidence.uploaded_at, zone)),
        texts.get(lang, "evidence.review.file", name=evidence.file_name,
                  size=max(1, round(evidence.size / 1024))),
    ]
    if evidence.description:
        lines.append(texts.get(lang, "evidence.review.description", text=evidence.description))
    if evidence.exif_taken_at is not None:
        lines.append(texts.get(lang, "evidence.review.exif_time",
                               when=when(evidence.exif_taken_at, zone)))
    if evidence.exif_latitude is not None and evidence.exif_longitude is not None:
        lines.append(texts.get(lang, "evidence.review.exif_gps", lat=evidence.exif_latitude,
                               lon=evidence.exif_longitude))
    if evidence.exif_taken_at is None and evidence.exif_latitude is None:
        key = ("evidence.review.no_exif_photo" if evidence.kind is EvidenceKind.PHOTO
               else "evidence.review.no_exif_file")
        lines.append(texts.get(lang, key))
    if captured_before(evidence.exif_taken_at, campaign_start, zone):
        lines.append(texts.get(lang, "evidence.review.early", start=campaign_start.isoformat()))
    if task.evidence_required:
        lines.append(texts.get(lang, "evidence.review.quota", approved=approved,
                               required=task.evidence_required))
    keyboard = Keyboard.of([
        [
            Button(texts.plain(lang, "evidence.button.approve"),
                                 callbacks.evidence("ok", evidence.id)),
            Button(texts.plain(lang, "evidence.button.reject"),
                                 callbacks.evidence("no", evidence.id)),
        ],
        [
            Button(texts.plain(lang, "evidence.button.skip"),
                                 callbacks.evidence("skip", evidence.id)),
            Button(texts.plain(lang, "evidence.button.view"),
                                 callbacks.evidence("view", task.id)),
        ],
    ])
    return "\n".join(lines), keyboard


def album_caption(texts: Texts, lang: str, evidence: Evidence, zone: ZoneInfo) -> str:
    return texts.get(
        lang, "evidence.view.item", evidence_id=evidence.id,
        status=decision_label(texts, lang, evidence.status.value),
        uploader=evidence.uploader.name if evidence.uploader else "—",
        when=when(evidence.uploaded_at, zone),
    )


def decided_suffix(texts: Texts, lang: str, status: EvidenceStatus, reviewer: str) -> str:
    return texts.get(lang, "evidence.review.decided",
                     status=decision_label(texts, lang, status.value), reviewer=reviewer)


def archive_labels(texts: Texts, lang: str) -> ArchiveLabels:
    """The index's headers and words, and the folder for tasks without an indicator."""
    return ArchiveLabels(
        headers=texts.plain(lang, "evidence.archive.headers").split("|"),
        task_status={s.value: texts.plain(lang, f"status.{s.value}") for s in TaskStatus},
        decision={s.value: decision_label(texts, lang, s.value) for s in EvidenceStatus},
        check={key: texts.plain(lang, f"evidence.archive.check_{key}")
               for key in ("ok", "mismatch", "missing")},
        no_indicator=texts.plain(lang, "evidence.archive.no_indicator"),
    )


def owner_notices(texts: Texts, actor: Actor, decision: Decision, reason: str) -> list[Notice]:
    """Rejections and a task closed by review reach the owner; plain approvals do not."""
    owner = decision.task.owner
    if owner is None or not owner.telegram_id or owner.id == actor.person_id:
        return []
    task, evidence = decision.task, decision.evidence
    if not decision.approved:
        text = texts.get(
            owner.language, "evidence.notify.rejected", task_id=task.id, title=task.title,
            evidence_id=evidence.id, name=evidence.file_name, reason=reason.strip(),
            reviewer=actor.name,
        )
    elif decision.closed:
        text = texts.get(owner.language, "evidence.notify.closed", task_id=task.id,
                                  title=task.title)
    else:
        return []
    return [(owner.id, owner.telegram_id, text)]
