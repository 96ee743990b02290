"""Making a backup while the bot runs, and restoring one: every byte checked on the way.

A backup copies the database first (one consistent snapshot: SQLite's online backup, or
pg_dump in the snapshot the manifest's counts were taken in), then the evidence files that
snapshot refers to and the kept import files. Evidence files never change once stored
(their name is their SHA-256) and are stored before their row is committed, so every file
the snapshot refers to is there to copy.

A restore reads the whole archive into a staging directory beside the data directory and
checks it (every file's SHA-256 and size against the manifest, every evidence file against
its own name, the database copy too) before it touches anything; it refuses a backup from
a schema this code does not know, and a database that holds data unless forced. Then the
database is replaced, the counts are compared with the manifest, the files are moved into
place, and the schema is brought up to this code's head.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO

from bot.backup.manifest import (
    MANIFEST,
    PG_MEMBER,
    SQLITE_MEMBER,
    BackupRefused,
    Entry,
    Manifest,
    evidence_member,
    evidence_sha,
    import_member,
    member_allowed,
)
from bot.config import AppConfig
from bot.evidence.backends import evidence_store
from bot.evidence.store import LocalEvidenceStore, local_store, sha256_of
from db import backup as db_backup
from db import migrate

CHUNK = 1024 * 1024
IMPORTS = "imports"


@dataclass
class BackupReport:
    out: Path
    manifest: Manifest
    bytes: int
    # Referenced by the database but absent from the store, or whose bytes no longer match
    # their name: left out of the archive, and the command exits 1.
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    manifest: Manifest
    evidence_files: int
    import_files: int
    upgraded_to: str | None
    # Files the restored database refers to that the archive did not hold.
    missing: list[str] = field(default_factory=list)


def _compressed(path: Path) -> bool:
    return path.name.endswith((".gz", ".tgz"))


# Backup -----------------------------------------------------------------------------------

async def create_backup(config: AppConfig, out: Path, *, now: datetime) -> BackupReport:
    """Write the archive to `out` (through `out.part`, renamed when complete)."""
    url = config.database.url
    dialect = db_backup.dialect_of(url)
    out = await asyncio.to_thread(_prepare, out)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as tmp:
        work = Path(tmp)
        if dialect == "sqlite":
            if not db_backup.sqlite_path(url).is_file():
                raise BackupRefused("backup.refused.no_database",
                                    path=str(db_backup.sqlite_path(url)))
            dump, member = work / "inspectbot.sqlite3", SQLITE_MEMBER
            await asyncio.to_thread(db_backup.sqlite_snapshot, url, dump)
            verdict = await asyncio.to_thread(db_backup.sqlite_check, dump)
            if verdict != "ok":
                raise BackupRefused("backup.refused.copy_damaged", reason=verdict[:200])
            facts = await db_backup.facts(f"sqlite:///{dump}")
        elif dialect == "postgresql":
            dump, member = work / "inspectbot.pgdump", PG_MEMBER
            try:
                facts = await db_backup.pg_dump_consistent(url, dump)
            except db_backup.ToolMissing as exc:
                raise BackupRefused("backup.refused.pg_tools", tools=str(exc)) from exc
            except db_backup.ToolFailed as exc:
                raise BackupRefused("backup.refused.pg_failed", reason=str(exc)[:500]) from exc
        else:
            raise BackupRefused("backup.refused.dialect", dialect=dialect)
        part = out.with_name(out.name + ".part")
        external = _external_store(config)
        try:
            report = await asyncio.to_thread(
                _write_archive, part, _compressed(out), dump, member, facts,
                config.storage.data_dir, now, dialect, external)
            os.replace(part, out)
        finally:
            part.unlink(missing_ok=True)
    report.out = out
    return report


def _prepare(out: Path) -> Path:
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _write_archive(
    part: Path, compressed: bool, dump: Path, member: str, facts: db_backup.Facts,
    data_dir: Path, now: datetime, dialect: str, external: str | None = None,
) -> BackupReport:
    store = local_store(data_dir)
    missing: list[str] = []
    altered: list[str] = []
    evidence: list[Entry] = []
    imports: list[Entry] = []
    with tarfile.open(part, "w:gz" if compressed else "w") as tar:
        database = _add(tar, dump, member)
        for sha in sorted(() if external else facts.evidence_hashes):
            path = _stored(store, sha)
            if path is None:
                missing.append(sha)
                continue
            # Hashed before it goes in: a file whose bytes no longer match its name would
            # make the whole backup fail verification when it is needed most.
            if sha256_of(path)[0] != sha:
                altered.append(sha)
                continue
            evidence.append(_add(tar, path, evidence_member(sha)))
        kept = data_dir / IMPORTS
        if kept.is_dir():
            for path in sorted(kept.iterdir()):
                if path.is_file() and member_allowed(import_member(path.name)):
                    imports.append(_add(tar, path, import_member(path.name)))
        manifest = Manifest(
            created_at=now.isoformat(), dialect=dialect, schema_revision=facts.revision,
            database=database, counts=facts.counts, evidence=evidence, imports=imports,
            data_dir=str(data_dir), evidence_store=external or "local",
        )
        body = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(now.timestamp()), 0o644
        tar.addfile(info, _Bytes(body))
    return BackupReport(part, manifest, part.stat().st_size, missing, altered)


def _external_store(config: AppConfig) -> str | None:
    """Where the evidence lives when it is not in the local directory: object storage is
    backed up by its own means (bucket versioning, replication), not copied into the
    archive — a province's evidence is hundreds of gigabytes."""
    if config.storage.backend == "local":
        return None
    s3 = config.storage.s3
    return f"s3://{s3.bucket}/{s3.prefix}".rstrip("/")


def _absent(config: AppConfig, hashes: Iterable[str]) -> list[str]:
    """The evidence the restored database refers to that the configured store lacks."""
    if config.storage.backend == "local":
        local = local_store(config.storage.data_dir)
        return sorted(sha for sha in hashes if _stored(local, sha) is None)
    store = evidence_store(config.storage)
    try:
        return sorted(sha for sha in hashes if not store.has(sha))
    finally:
        store.close()


def _stored(store: LocalEvidenceStore, sha: str) -> Path | None:
    try:
        path = store.path_of(sha)
    except ValueError:  # not a SHA-256 in the row at all
        return None
    return path if path.is_file() else None


class _Hashing:
    """A file read once: into the archive and through SHA-256 at the same time."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at:end], min(end, len(self.data))
        return chunk


def _add(tar: tarfile.TarFile, path: Path, name: str) -> Entry:
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as stream:
        hashing = _Hashing(stream)
        tar.addfile(info, hashing)  # tarfile only calls read()
    return Entry(name, hashing.digest.hexdigest(), hashing.size)


# Restore ----------------------------------------------------------------------------------

def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive, "r:*") as tar:
            try:
                member = tar.getmember(MANIFEST)
            except KeyError:
                raise BackupRefused("backup.refused.not_a_backup") from None
            stream = tar.extractfile(member)
            if stream is None:
                raise BackupRefused("backup.refused.not_a_backup")
            return Manifest.from_json(stream.read())
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupRefused("backup.refused.unreadable", reason=str(exc)[:200]) from exc


async def restore_backup(config: AppConfig, archive: Path, *, force: bool) -> RestoreReport:
    url = config.database.url
    dialect = db_backup.dialect_of(url)
    if not await asyncio.to_thread(archive.is_file):
        raise BackupRefused("backup.refused.no_archive", path=str(archive))
    manifest = await asyncio.to_thread(read_manifest, archive)
    if manifest.dialect != dialect:
        raise BackupRefused("backup.refused.dialect_mismatch", backup=manifest.dialect,
                            target=dialect)
    head = migrate.expected_head()
    revision = manifest.schema_revision
    if revision is not None and not migrate.known_revision(revision):
        raise BackupRefused("backup.refused.newer_schema", revision=revision, head=head)
    if dialect == "postgresql" and db_backup.pg_tools_missing():
        raise BackupRefused("backup.refused.pg_tools",
                            tools=", ".join(db_backup.pg_tools_missing()))
    if dialect == "sqlite":
        db_backup.sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    target = await db_backup.facts(url)
    if not target.empty and not force:
        held = ", ".join(f"{name} {count}" for name, count in target.counts.items() if count)
        raise BackupRefused("backup.refused.not_empty", held=held)

    data_dir = config.storage.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".restore-"))
    try:
        problems = await asyncio.to_thread(_extract_verified, archive, manifest, staging)
        if problems:
            raise BackupRefused("backup.refused.damaged", count=len(problems),
                                first="; ".join(problems[:3]))
        copy = staging / manifest.database.path
        # Nothing has been changed up to here; from here on the target is replaced.
        if dialect == "sqlite":
            await asyncio.to_thread(db_backup.sqlite_restore, copy, url)
        else:
            await db_backup.pg_drop_all(url)
            try:
                await asyncio.to_thread(db_backup.pg_restore, copy, url)
            except db_backup.ToolFailed as exc:
                raise BackupRefused("backup.refused.pg_failed", reason=str(exc)[:500]) from exc
        restored = await db_backup.facts(url)
        differ = [f"{name} {count}→{restored.counts.get(name)}"
                  for name, count in manifest.counts.items()
                  if restored.counts.get(name) != count]
        if differ:
            raise BackupRefused("backup.refused.counts_differ", tables=", ".join(differ))
        moved = await asyncio.to_thread(_move_files, staging, manifest, data_dir)
        await db_backup.point_imports_at(url, data_dir / IMPORTS)
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, True)
    upgraded = None
    if revision != head:
        await asyncio.to_thread(migrate.upgrade, url)
        upgraded = head
    missing = await asyncio.to_thread(_absent, config, restored.evidence_hashes)
    return RestoreReport(manifest, moved[0], moved[1], upgraded, missing)


def _extract_verified(archive: Path, manifest: Manifest, staging: Path) -> list[str]:
    """Every member into `staging`, hashed on the way; what does not match, or why."""
    expected = {entry.path: entry for entry in manifest.entries()}
    seen: set[str] = set()
    problems: list[str] = []
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            name = member.name
            if name == MANIFEST:
                continue
            entry = expected.get(name)
            if entry is None or not member.isfile() or not member_allowed(name):
                problems.append(f"{name[:120]}: not in the manifest")
                continue
            stream = tar.extractfile(member)
            if stream is None:
                problems.append(f"{name}: unreadable")
                continue
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest, size = _copy_hashing(stream, target)
            seen.add(name)
            if (digest, size) != (entry.sha256, entry.size):
                problems.append(f"{name}: SHA-256 or size differs from the manifest")
            sha = evidence_sha(name)
            if sha is not None and digest != sha:
                problems.append(f"{name}: content differs from its name")
    problems.extend(f"{name}: missing from the archive" for name in sorted(set(expected) - seen))
    return problems


def _copy_hashing(stream: IO[bytes], target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _move_files(staging: Path, manifest: Manifest, data_dir: Path) -> tuple[int, int]:
    """The verified files into the store and the imports directory (same file system as
    the staging directory, so each move is a rename)."""
    store = local_store(data_dir)
    for entry in manifest.evidence:
        sha = evidence_sha(entry.path)
        assert sha is not None
        _place(staging / entry.path, store.path_of(sha), keep=lambda p: p.is_file())
    kept = data_dir / IMPORTS
    for entry in manifest.imports:
        _place(staging / entry.path, kept / Path(entry.path).name, keep=lambda p: False)
    return len(manifest.evidence), len(manifest.imports)


def _place(source: Path, target: Path, *, keep: Callable[[Path], bool]) -> None:
    if keep(target):
        return  # content-addressed: the same name holds the same bytes
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
