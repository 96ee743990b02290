"""The archive's table of contents: what a backup holds, and how to check every byte of it.

An archive is one tar file (gzip-compressed when its name ends in `.gz` or `.tgz`):

    database/inspectbot.sqlite3 | database/inspectbot.pgdump
    evidence/<sha[:2]>/<sha>        the evidence store, content-addressed as on disk
    imports/<name>                  breakdown tables kept for a pending import
    manifest.json                   written last, once every hash is known

Member names are checked against these shapes when reading, so an archive cannot write
outside the directories a restore means to fill.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.core.errors import DomainError

FORMAT = "inspectbot-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/inspectbot.sqlite3"
PG_MEMBER = "database/inspectbot.pgdump"

_SHA = re.compile(r"[0-9a-f]{64}")
_EVIDENCE = re.compile(r"evidence/([0-9a-f]{2})/([0-9a-f]{64})")
# What the bot names kept tables: a random token and the table's kind.
_IMPORT = re.compile(r"imports/[A-Za-z0-9_-]{1,64}\.[a-z0-9]{1,8}")


class BackupRefused(DomainError):
    """A backup or restore that must not go on; the text says why and what to do."""


@dataclass(frozen=True)
class Entry:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    created_at: str
    dialect: str
    schema_revision: str | None
    database: Entry
    counts: dict[str, int]
    evidence: list[Entry] = field(default_factory=list)
    imports: list[Entry] = field(default_factory=list)
    data_dir: str = ""
    # "local": the evidence files are in the archive. Otherwise where they stayed (object
    # storage keeps its own copies: versioning, replication) and the archive holds none.
    evidence_store: str = "local"
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def entries(self) -> list[Entry]:
        return [self.database, *self.evidence, *self.imports]

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1).encode("utf-8")

    @staticmethod
    def from_json(data: bytes) -> Manifest:
        try:
            raw = json.loads(data.decode("utf-8"))
            if raw.get("format") != FORMAT:
                raise BackupRefused("backup.refused.not_a_backup")
            if int(raw.get("format_version", 0)) > FORMAT_VERSION:
                raise BackupRefused("backup.refused.format_newer",
                                    version=raw.get("format_version"))
            manifest = Manifest(
                created_at=str(raw["created_at"]), dialect=str(raw["dialect"]),
                schema_revision=raw["schema_revision"], database=_entry(raw["database"]),
                counts={str(k): int(v) for k, v in raw["counts"].items()},
                evidence=[_entry(e) for e in raw["evidence"]],
                imports=[_entry(e) for e in raw["imports"]],
                data_dir=str(raw.get("data_dir", "")), format=FORMAT,
                format_version=int(raw["format_version"]),
            )
        except BackupRefused:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupRefused("backup.refused.bad_manifest", reason=str(exc)[:200]) from exc
        for entry in manifest.entries():
            if not member_allowed(entry.path) or entry.path == MANIFEST:
                raise BackupRefused("backup.refused.bad_member", name=entry.path[:120])
        return manifest


def _entry(raw: Any) -> Entry:
    entry = Entry(str(raw["path"]), str(raw["sha256"]), int(raw["size"]))
    if not _SHA.fullmatch(entry.sha256) or entry.size < 0:
        raise ValueError(f"bad entry {entry.path!r}")
    return entry


def evidence_member(sha256: str) -> str:
    return f"evidence/{sha256[:2]}/{sha256}"


def import_member(name: str) -> str:
    return f"imports/{name}"


def member_allowed(name: str) -> bool:
    """Only the shapes above: no absolute paths, no `..`, nothing else."""
    if name in (MANIFEST, SQLITE_MEMBER, PG_MEMBER) or _IMPORT.fullmatch(name):
        return True
    found = _EVIDENCE.fullmatch(name)
    return found is not None and found.group(2).startswith(found.group(1))


def evidence_sha(name: str) -> str | None:
    found = _EVIDENCE.fullmatch(name)
    return found.group(2) if found else None
