"""The Application class carries both per-update concerns: metrics and one database scope.

Two branches each set `ApplicationBuilder.application_class`; a merge kept both calls and
the second silently replaced the first. One class now derives from the other.
"""

from __future__ import annotations

from bot.app import build_application
from bot.config import AppConfig
from handlers.observe import ObservedApplication
from tests.utils.telegram import RecordingRequest


def test_each_update_is_counted_and_scoped(config: AppConfig) -> None:
    app = build_application(config, request=RecordingRequest(), updater=False)
    assert isinstance(app, ObservedApplication)  # timed and counted (bot.core.metrics)
    # the per-update database scope (bot.core.runtime) is the subclass's own override
    assert "process_update" in vars(type(app)) and type(app) is not ObservedApplication
