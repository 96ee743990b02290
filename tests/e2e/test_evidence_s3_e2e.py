"""Evidence in object storage, end to end: the bot polls the sandbox and keeps every file in
an S3 bucket (moto in server mode, signatures checked), behind a relay that can fail."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.config import AppConfig
from bot.core.clock import SystemClock
from db.models import Evidence, Role
from sandbox import SandboxClient
from tests.conftest import UNLIMITED_FLOOD
from tests.e2e.conftest import LiveBot, document_of, sandbox_server
from tests.utils import factories as f
from tests.utils.evidence_files import jpeg
from tests.utils.s3 import FlakyProxy, MotoServer

ZHANG, OFFICE = 4401, 4409


@pytest.fixture
def relay(moto: MotoServer) -> Iterator[FlakyProxy]:
    with FlakyProxy(moto.port) as proxy:
        yield proxy


@pytest.fixture
def config(database_url: str, tmp_path: Path, moto: MotoServer, s3_bucket: str,
           relay: FlakyProxy) -> AppConfig:
    """The suite's configuration with evidence in the bucket, reached through the relay."""
    return AppConfig.model_validate({
        "database": {"url": database_url},
        "storage": {"data_dir": str(tmp_path / "data"), "backend": "s3",
                    "s3": moto.s3_section(s3_bucket, endpoint_url=relay.endpoint,
                                          max_attempts=2)},
        "flood": UNLIMITED_FLOOD,
    })


async def _seed(bot: LiveBot) -> int:
    now = SystemClock().now()
    async with bot.services.session() as s:
        c = await f.campaign(s)
        await f.phase(s, c, "整改", starts=date(2026, 9, 1))
        edu = await f.unit(s, "县教育局")
        zhang = await f.person(s, "张三", unit=edu, telegram_id=ZHANG)
        await f.person(s, "迎检办", role=Role.ADMIN, telegram_id=OFFICE)
        lab = await f.task(s, c, unit=edu, owner=zhang, title="实验室标识标牌",
                           due_at=now + timedelta(days=5))
    return lab.id


async def test_uploads_land_in_the_bucket_and_the_archive_streams_from_it(
    polling_bot: LiveBot, sandbox: SandboxClient, moto: MotoServer, s3_bucket: str
) -> None:
    lab = await _seed(polling_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG, started=True)
    office = await sandbox.add_user("迎检办", user_id=OFFICE, started=True)
    sent = [jpeg(color=(30 * n, 90, 10), taken=datetime(2026, 11, 12 + n, 9, 0))
            for n in range(2)]
    for n, data in enumerate(sent):
        await zhang.send_document(data, filename=f"IMG_{n}.jpg", caption=f"#{lab} 门牌")
        await zhang.expect_message(contains="收到 1 份")

    async with polling_bot.services.session() as s:
        rows = list((await s.execute(select(Evidence).order_by(Evidence.id))).scalars())
    assert [r.sha256 for r in rows] == [hashlib.sha256(d).hexdigest() for d in sent]
    bucket = moto.client()
    for row, data in zip(rows, sent, strict=True):
        key = f"evidence/{row.sha256[:2]}/{row.sha256}"
        assert bucket.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == data
    data_dir = polling_bot.config.storage.data_dir
    assert not (data_dir / "evidence").exists()  # nothing kept on the bot's disk
    assert list((data_dir / "tmp" / "evidence").iterdir()) == []  # downloads cleaned up

    await office.send("/archive")
    delivered = await office.expect_message(where=lambda m: m.document is not None, timeout=10)
    stored = sandbox_server(sandbox).state.media.get(document_of(delivered)["file_id"])
    archive = zipfile.ZipFile(io.BytesIO(stored.data))
    sheet = load_workbook(io.BytesIO(archive.read("index.xlsx")), read_only=True).active
    header, *body = list(sheet.iter_rows(values_only=True))
    path_at, sha_at = header.index("档案内路径"), header.index("SHA-256")
    assert [r[header.index("校验")] for r in body] == ["一致", "一致"]
    for row in body:
        assert hashlib.sha256(archive.read(str(row[path_at]))).hexdigest() == row[sha_at]


async def test_a_failing_store_is_explained_and_the_file_can_be_sent_again(
    polling_bot: LiveBot, sandbox: SandboxClient, relay: FlakyProxy
) -> None:
    lab = await _seed(polling_bot)
    zhang = await sandbox.add_user("张三", user_id=ZHANG, started=True)
    photo = jpeg(color=(200, 10, 10))

    relay.fail("PUT", 2)  # both attempts of the upload answer 503 SlowDown
    await zhang.send_document(photo, filename="门牌.jpg", caption=f"#{lab}")
    refusal = await zhang.expect_message(contains="未收下的文件")
    assert "门牌.jpg：文件存储暂时无法写入，未保存" in refusal.text
    async with polling_bot.services.session() as s:
        assert (await s.execute(select(Evidence))).first() is None

    await zhang.send_document(photo, filename="门牌.jpg", caption=f"#{lab}")
    await zhang.expect_message(contains="收到 1 份")
