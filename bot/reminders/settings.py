"""A person's own reminder settings: quiet hours, digest time, language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.arguments import Words
from bot.core.errors import InvalidInput, NotFound
from bot.reminders.policy import Policy, parse_clock, parse_window
from bot.texts import LANGUAGES
from db.models import Person

# Quiet hours "off" are stored as an empty window (start == end).
OFF = time(0, 0)

SETTINGS_WORDS = Words({
    "quiet": ("免打扰", "安静时段", "免打扰时段"), "digest": ("摘要", "摘要时间"),
    "language": ("语言",), "off": ("关闭", "关"), "default": ("默认",),
    "zh": ("中文", "汉语"), "en": ("英文", "英语", "English"),
})


@dataclass(frozen=True)
class Settings:
    quiet_start: time
    quiet_end: time
    quiet_is_default: bool
    digest_time: time
    digest_is_default: bool
    language: str

    @property
    def quiet_off(self) -> bool:
        return self.quiet_start == self.quiet_end


def settings_of(person: Person, policy: Policy) -> Settings:
    quiet = policy.quiet_for(person.quiet_start, person.quiet_end)
    return Settings(
        quiet_start=quiet.start,
        quiet_end=quiet.end,
        quiet_is_default=person.quiet_start is None or person.quiet_end is None,
        digest_time=person.digest_time or policy.digest_time,
        digest_is_default=person.digest_time is None,
        language=person.language,
    )


async def person_of(session: AsyncSession, person_id: int) -> Person:
    """The person whose settings these are."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("error.person_not_found", query=str(person_id))
    return person


async def change(session: AsyncSession, person_id: int, what: str, value: str) -> Person:
    """Apply `/settings <what> <value>` (in either language's words); raises InvalidInput
    with a text id when unclear."""
    person = await person_of(session, person_id)
    what = SETTINGS_WORDS.canonical(what) or what
    value = SETTINGS_WORDS.canonical(value) or value.strip().lower()
    try:
        if what == "quiet":
            if value == "default":
                person.quiet_start = person.quiet_end = None
            elif value == "off":
                person.quiet_start = person.quiet_end = OFF
            else:
                person.quiet_start, person.quiet_end = parse_window(value)
        elif what == "digest":
            person.digest_time = None if value == "default" else parse_clock(value)
        elif what == "language":
            if value not in LANGUAGES:
                raise InvalidInput("reminders.settings.usage")
            person.language = value
        else:
            raise InvalidInput("reminders.settings.usage")
    except ValueError:
        raise InvalidInput("reminders.settings.bad_time") from None
    await session.flush()
    return person
