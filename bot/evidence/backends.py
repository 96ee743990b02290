"""Which store holds the evidence: `[storage] backend` chooses, this module builds it."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.config import StorageConfig
from bot.evidence.s3 import S3EvidenceStore
from bot.evidence.store import EvidenceStore, StorageError, local_store


def s3_scratch(data_dir: Path) -> Path:
    """Downloads wait here before they go to the bucket."""
    return data_dir / "tmp" / "evidence"


def evidence_store(storage: StorageConfig) -> EvidenceStore:
    """The configured store (the local directory unless `backend = "s3"`)."""
    if storage.backend == "s3":
        return S3EvidenceStore(storage.s3, s3_scratch(storage.data_dir))
    return local_store(storage.data_dir)


def s3_store(
    storage: StorageConfig, *, needed_for: str, transport: httpx.BaseTransport | None = None
) -> S3EvidenceStore:
    """The bucket of `[storage.s3]`, whatever the backend (a migration fills it first)."""
    problems = storage.s3.missing(needed_for)
    if problems:
        raise StorageError("\n".join(f"[storage.s3] {key}: {what}" for key, what in problems))
    return S3EvidenceStore(storage.s3, s3_scratch(storage.data_dir), transport=transport)
