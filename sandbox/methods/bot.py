"""The bot's own settings: identity, updates and webhooks, commands, descriptions, chats."""

from __future__ import annotations

import re
from typing import Any

from ..errors import bad_request
from ..params import Params
from ..serialize import bot_json, chat_full_json, member_json, user_json
from ..state import SandboxState
from ..updates import WebhookSettings
from .common import Handler

JSON = dict[str, Any]
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


async def get_me(st: SandboxState, p: Params) -> JSON:
    return bot_json(st, full=True)


async def get_updates(st: SandboxState, p: Params) -> list[JSON]:
    allowed = p.parsed("allowed_updates")
    return await st.updates.get_updates(
        offset=p.integer("offset"),
        limit=p.integer("limit") or 100,
        wait=min(max(p.number("timeout", 0.0), 0.0), 50.0),
        allowed=list(allowed) if isinstance(allowed, list) else None,
    )


async def set_webhook(st: SandboxState, p: Params) -> bool:
    url = p.text("url") or ""
    if p.flag("drop_pending_updates"):
        st.updates.drop_pending()
    if not url:
        await st.updates.delete_webhook()
        return True
    # real Telegram insists on HTTPS and ports 443/80/88/8443; a local bot cannot offer that
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.text("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = p.parsed("allowed_updates")
    st.updates.set_allowed(list(allowed) if isinstance(allowed, list) else None)
    st.updates.set_webhook(
        WebhookSettings(
            url=url,
            secret_token=secret,
            max_connections=p.integer("max_connections") or 40,
            ip_address=p.text("ip_address"),
            certificate=upload.data if (upload := p.files.get("certificate")) else None,
        )
    )
    return True


async def delete_webhook(st: SandboxState, p: Params) -> bool:
    if p.flag("drop_pending_updates"):
        st.updates.drop_pending()
    await st.updates.delete_webhook()
    return True


async def get_webhook_info(st: SandboxState, p: Params) -> JSON:
    hook = st.updates.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": hook is not None and hook.certificate is not None,
        "pending_update_count": len(st.updates.pending),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        if st.updates.allowed is not None:
            info["allowed_updates"] = sorted(st.updates.allowed)
    return info


def _scope_key(st: SandboxState, p: Params) -> str:
    scope = p.parsed("scope", "BotCommandScope") or {"type": "default"}
    kind = scope.get("type", "default") if isinstance(scope, dict) else "default"
    if kind in {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}:
        return str(kind)
    if kind not in {"chat", "chat_administrators", "chat_member"}:
        raise bad_request("can't parse BotCommandScope JSON object")
    chat = st.chat_for_bot(scope.get("chat_id", ""))
    if kind == "chat_member":
        return f"chat_member:{chat.id}:{int(scope.get('user_id', 0))}"
    return f"{kind}:{chat.id}"


async def set_my_commands(st: SandboxState, p: Params) -> bool:
    commands = p.parsed("commands", "commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = (_scope_key(st, p), p.text("language_code") or "")
    st.commands[key] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def get_my_commands(st: SandboxState, p: Params) -> list[JSON]:
    # Telegram answers for exactly this scope and language, without falling back
    return st.commands.get((_scope_key(st, p), p.text("language_code") or ""), [])


async def delete_my_commands(st: SandboxState, p: Params) -> bool:
    st.commands.pop((_scope_key(st, p), p.text("language_code") or ""), None)
    return True


def resolve_commands(st: SandboxState, chat_id: int, user_id: int, language: str) -> list[JSON]:
    """The command menu a person sees, following Telegram's documented scope order."""
    chat = st.chats[chat_id]
    if chat.type == "private":
        scopes = [f"chat:{chat_id}", "all_private_chats", "default"]
    else:
        scopes = [
            f"chat_member:{chat_id}:{user_id}",
            f"chat:{chat_id}",
            "all_group_chats",
            "default",
        ]
    for scope in scopes:
        for lang in (language, ""):
            if (scope, lang) in st.commands:
                return st.commands[(scope, lang)]
    return []


def _text_setting(kind: str, limit: int) -> tuple[Handler, Handler]:
    async def setter(st: SandboxState, p: Params) -> bool:
        value = p.text(kind) or ""
        if len(value) > limit:
            raise bad_request(f"{kind} is too long")
        st.texts[(kind, p.text("language_code") or "")] = value
        return True

    async def getter(st: SandboxState, p: Params) -> JSON:
        lang = p.text("language_code") or ""
        return {kind: st.texts.get((kind, lang), st.texts.get((kind, ""), ""))}

    return setter, getter


async def set_chat_menu_button(st: SandboxState, p: Params) -> bool:
    chat_id = st.chat_for_bot(p.chat_id()).id if p.has("chat_id") else None
    button = p.parsed("menu_button", "MenuButton") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in {"commands", "web_app", "default"}:
        raise bad_request("can't parse MenuButton JSON object")
    st.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(st: SandboxState, p: Params) -> JSON:
    chat_id = st.chat_for_bot(p.chat_id()).id if p.has("chat_id") else None
    return st.menu_buttons.get(chat_id) or st.menu_buttons.get(None) or {"type": "commands"}


async def get_chat(st: SandboxState, p: Params) -> JSON:
    return chat_full_json(st, st.chat_for_bot(p.chat_id()))


async def get_chat_member(st: SandboxState, p: Params) -> JSON:
    chat = st.chat_for_bot(p.chat_id())
    user_id = p.req_integer("user_id")
    if user_id == st.config.bot_id:
        return member_json(st, chat.bot_status)
    user = st.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    present = user_id == chat.id or user_id in chat.members
    return {"status": "member" if present else "left", "user": user_json(user)}


async def log_out(st: SandboxState, p: Params) -> bool:
    return True


_set_description, _get_description = _text_setting("description", 512)
_set_short, _get_short = _text_setting("short_description", 120)
_set_name, _get_name = _text_setting("name", 64)

METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setMyDescription": _set_description,
    "getMyDescription": _get_description,
    "setMyShortDescription": _set_short,
    "getMyShortDescription": _get_short,
    "setMyName": _set_name,
    "getMyName": _get_name,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "logOut": log_out,
    "close": log_out,
}
