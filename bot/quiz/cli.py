"""Question bank subcommands: `inspectbot bank import|export|anki FILE`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.config import AppConfig
from bot.core.errors import DomainError
from bot.core.schema import SchemaBehind, check_schema
from bot.quiz import anki
from bot.quiz import bank as quiz_bank
from bot.quiz.bank import BankInvalid
from bot.services import build_services
from bot.texts import Texts


def add_commands(subparsers: Any) -> None:
    bank = subparsers.add_parser("bank", help="question bank: import, export, Anki deck")
    bank.add_argument("action", choices=("import", "export", "anki"))
    bank.add_argument("file", help="YAML or CSV to import/export (.yaml/.yml/.csv), or OUT.apkg")
    bank.set_defaults(handler=cmd_bank)


def describe_errors(texts: Texts, lang: str, error: BankInvalid) -> list[str]:
    lines = [texts.plain(lang, "quiz.bank.invalid", count=len(error.errors))]
    for row in error.errors:
        message = texts.plain(lang, row.message_id, **dict(row.params))
        lines.append(texts.plain(lang, "quiz.bank.row", row=row.row, ref=row.ref, message=message))
    return lines


async def run_bank(
    config: AppConfig, action: str, path: Path, *, out: Any = None, err: Any = None
) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    services = build_services(config)
    texts = services.texts
    lang = config.bot.default_language
    try:
        await check_schema(services.db)
        if action == "import":
            content = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
            async with services.session() as session:
                result = await quiz_bank.import_file(session, path.name, content)
            print(texts.plain(lang, "quiz.bank.imported", created=result.questions_created,
                              updated=result.questions_updated,
                              indicators=result.indicators_created), file=out)
            return 0
        async with services.session() as session:
            bank = await quiz_bank.current_bank(session)
        if action == "anki":
            count = await asyncio.to_thread(
                anki.write_apkg, bank, path, texts.plain(lang, "quiz.bank.deck")
            )
            print(texts.plain(lang, "quiz.bank.anki", count=count, path=path), file=out)
            return 0
        content = quiz_bank.to_csv(bank) if path.suffix.lower() == ".csv" else quiz_bank.to_yaml(bank)
        await asyncio.to_thread(path.write_text, content, encoding="utf-8")
        print(texts.plain(lang, "quiz.bank.exported", count=len(bank.questions), path=path), file=out)
        return 0
    except SchemaBehind as exc:
        print(f"数据库结构落后 / {exc}", file=err)
        return 3
    except BankInvalid as exc:
        print("\n".join(describe_errors(texts, lang, exc)), file=err)
        return 1
    except DomainError as exc:
        print(texts.plain(lang, exc.message_id, **exc.params), file=err)
        return 1
    finally:
        await services.db.dispose()


def cmd_bank(config: AppConfig, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if args.action == "import" and not path.is_file():
        print(f"{path}: 文件不存在 / file not found", file=sys.stderr)
        return 2
    return asyncio.run(run_bank(config, args.action, path))
