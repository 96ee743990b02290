"""A tiny PTB bot for the sandbox's own tests, independent of the product's handlers."""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Poll, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

QUIZ_EXPLANATION = "正本和副本各一份"

# The echo bot keeps PTB's default context and data types.
EchoApp = Application[Any, Any, Any, Any, Any, Any]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with the start payload and a keyboard."""
    assert update.effective_message is not None and update.effective_user is not None
    payload = " ".join(context.args or [])
    await update.effective_message.reply_html(
        f"<b>欢迎</b>, {html.escape(update.effective_user.first_name)}! 参数: <code>{html.escape(payload)}</code>",
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("开始 Start", callback_data="begin")],
                [InlineKeyboardButton("测验 Quiz", callback_data="quiz")],
            ]
        ),
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button and either edit the message or send a quiz."""
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer(f"收到 {query.data}")
    if query.data == "quiz":
        await context.bot.send_poll(
            query.message.chat.id,
            "迎检材料准备几份?",
            ["一份", "两份", "三份"],
            type=Poll.QUIZ,
            correct_option_ids=[1],
            is_anonymous=False,
            explanation=QUIZ_EXPLANATION,
        )
        return
    await query.edit_message_text("已开始 <i>Started</i>", parse_mode="HTML")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat text, mentioning what it replied to."""
    message = update.effective_message
    assert message is not None and message.text is not None
    suffix = f" (回复 #{message.reply_to_message.message_id})" if message.reply_to_message else ""
    await message.reply_text(f"echo: {message.text}{suffix}")


async def media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the upload and report its size, proving getFile and the file route work."""
    message = update.effective_message
    assert message is not None
    attachment = message.photo[-1] if message.photo else message.document
    assert attachment is not None
    data = await (await attachment.get_file()).download_as_bytearray()
    album = f" album={message.media_group_id}" if message.media_group_id else ""
    await message.reply_text(f"got {len(data)} bytes caption={message.caption}{album}")


async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the voter which option they chose."""
    answer = update.poll_answer
    assert answer is not None and answer.user is not None
    await context.bot.send_message(answer.user.id, f"你选了 {list(answer.option_ids)}")


def build_echo_bot(token: str, base_url: str, base_file_url: str) -> EchoApp:
    app = ApplicationBuilder().token(token).base_url(base_url).base_file_url(base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(PollAnswerHandler(poll_answer))
    app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, media))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app
