"""Every message a handler sends goes through handlers.outgoing, which knows Telegram's
limits and retries; a direct `message.reply_html` or `bot.send_message` would bypass both."""

from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
DIRECT = {
    "reply_text", "reply_html", "reply_photo", "reply_document", "reply_media_group",
    "reply_poll", "send_message", "send_photo", "send_document", "send_media_group",
    "send_poll", "edit_message_text", "edit_message_caption", "edit_message_reply_markup",
    "edit_text", "edit_caption", "edit_reply_markup", "answer",
}


def _direct_calls(source: str, name: str) -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []

    def visit(node: ast.AST, inside_outgoing: bool) -> None:
        if isinstance(node, ast.Call):
            func = node.func
            through = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "outgoing"
            if isinstance(func, ast.Attribute) and func.attr in DIRECT and not through \
                    and not inside_outgoing:
                found.append(f"{name}:{node.lineno} .{func.attr}()")
            # `outgoing.deliver(lambda: bot.send_poll(...))` is the layer making the call.
            inside_outgoing = inside_outgoing or through
        for child in ast.iter_child_nodes(node):
            visit(child, inside_outgoing)

    visit(tree, False)
    return found


def test_handlers_send_only_through_the_outgoing_layer() -> None:
    files = [p for p in HANDLERS.rglob("*.py") if p.name != "outgoing.py"]
    assert len(files) > 10
    direct = [
        call for path in files
        for call in _direct_calls(path.read_text(encoding="utf-8"),
                                  str(path.relative_to(HANDLERS.parent)))
    ]
    assert direct == []


def test_the_check_catches_a_direct_send() -> None:
    sample = ("async def f(message, bot, outgoing):\n"
              "    await message.reply_html('x')\n"
              "    await outgoing.deliver(lambda: bot.send_poll(1, 'q', []))\n")
    assert _direct_calls(sample, "sample.py") == ["sample.py:2 .reply_html()"]
