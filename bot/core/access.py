"""Who is acting, and what their role lets them see and change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import PermissionDenied
from db.models import Person, Role, Task
from db.repositories import people as people_repo


@dataclass(frozen=True)
class Actor:
    """A linked person as seen by the rules: identity, role and the units they lead."""

    person_id: int
    name: str
    role: Role
    language: str
    unit_id: int | None
    telegram_id: int | None
    led_unit_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.LEADER)

    @property
    def is_unit_leader(self) -> bool:
        return bool(self.led_unit_ids)


async def actor_for(
    *, session: AsyncSession, person: Person, led_roots: Sequence[int] | None = None
) -> Actor:
    if led_roots is None:
        led_roots = await people_repo.units_led_by(session=session, person_id=person.id)
    led: set[int] = set()
    for root in led_roots:
        led |= await people_repo.subtree_unit_ids(session=session, root_id=root)
    return Actor(
        person_id=person.id,
        name=person.name,
        role=person.role,
        language=person.language,
        unit_id=person.unit_id,
        telegram_id=person.telegram_id,
        led_unit_ids=frozenset(led),
    )


async def actor_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Actor | None:
    found = await people_repo.person_and_led_units(session=session, telegram_id=telegram_id)
    if found is None:
        return None
    person, led_roots = found
    return await actor_for(session=session, person=person, led_roots=led_roots)


async def languages_of(
    *, session: AsyncSession, telegram_ids: Sequence[int], default: str
) -> dict[int, str]:
    """Each account's reading language: the linked person's own, else `default`."""
    found = {telegram_id: default for telegram_id in telegram_ids}
    for telegram_id in telegram_ids:
        person = await people_repo.person_by_telegram_id(session=session, telegram_id=telegram_id)
        if person is not None:
            found[telegram_id] = person.language
    return found


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise PermissionDenied("error.forbidden")


def require_admin(actor: Actor) -> None:
    require_role(actor, Role.ADMIN)


def can_view_task(actor: Actor, task: Task) -> bool:
    return (
        actor.sees_everything
        or task.owner_id == actor.person_id
        or task.unit_id in actor.led_unit_ids
    )


def can_update_task(actor: Actor, task: Task) -> bool:
    """Owners report on their tasks, and the office may act for them. Leaders — of the
    leading group or of a unit — see the tasks they oversee and are told when one is late,
    but do not change someone else's: what a task's status says must be what its owner
    (or the office, on the record) reported."""
    return actor.is_admin or task.owner_id == actor.person_id


def require_task_update(actor: Actor, task: Task) -> None:
    if not can_update_task(actor, task):
        raise PermissionDenied("error.not_your_task", task_id=task.id)


def require_task_view(actor: Actor, task: Task) -> None:
    if not can_view_task(actor, task):
        raise PermissionDenied("error.not_your_task", task_id=task.id)
