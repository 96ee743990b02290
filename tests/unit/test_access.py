from __future__ import annotations

import pytest

from bot.core.access import Actor, can_update_task, can_view_task, require_admin
from bot.core.errors import PermissionDenied
from db.models import Role, Task


def _actor(role: Role, person_id: int = 1, led: frozenset[int] = frozenset()) -> Actor:
    return Actor(person_id, "某人", role, "zh", unit_id=10, telegram_id=99, led_unit_ids=led)


def _task(owner_id: int, unit_id: int) -> Task:
    return Task(id=5, owner_id=owner_id, unit_id=unit_id)


@pytest.mark.parametrize(
    ("actor", "view", "update"),
    [
        (_actor(Role.ADMIN), True, True),
        (_actor(Role.LEADER), True, False),
        (_actor(Role.RESPONSIBLE, person_id=7), True, True),  # the owner
        (_actor(Role.RESPONSIBLE, person_id=8), False, False),
        # A unit's leader oversees its tasks: sees them, does not change them (issue 13).
        (_actor(Role.RESPONSIBLE, person_id=8, led=frozenset({20, 21})), True, False),
        (_actor(Role.LEADER, person_id=8, led=frozenset({21})), True, False),
        (_actor(Role.STAFF, person_id=8), False, False),
    ],
)
def test_who_may_see_and_change_a_task(actor: Actor, view: bool, update: bool) -> None:
    task = _task(owner_id=7, unit_id=21)
    assert can_view_task(actor, task) is view
    assert can_update_task(actor, task) is update


def test_require_admin() -> None:
    require_admin(_actor(Role.ADMIN))
    with pytest.raises(PermissionDenied):
        require_admin(_actor(Role.LEADER))
