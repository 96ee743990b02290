"""Evidence at the Telegram edge: uploads, albums, submitting, review and the archive."""

from __future__ import annotations

from handlers.context import AppType
from handlers.evidence import review, upload
from handlers.evidence.upload import resume_albums

__all__ = ["register", "resume_albums"]


def register(app: AppType) -> None:
    upload.register(app)
    review.register(app)
