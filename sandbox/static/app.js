// The web chat: a person's view of the sandbox, driven only through the control API.
"use strict";

const state = {
  bot: null,
  users: [],
  chats: [],
  userId: null,
  chatId: null,
  messages: new Map(),
  replyTo: null,
  typingTimer: null,
};

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/sandbox${path}`, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Entities use UTF-16 offsets, which is exactly how JavaScript indexes strings.
// Building DOM nodes from entities (never innerHTML) keeps bot text inert.
const ENTITY_TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code",
  pre: "pre", blockquote: "blockquote", expandable_blockquote: "blockquote",
  spoiler: "span", text_link: "a", url: "a", mention: "span", hashtag: "span",
  bot_command: "span",
};

function safeUrl(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return ["http:", "https:", "tg:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
  } catch (error) {
    return null;
  }
}

function renderEntities(text, entities) {
  const sorted = (entities || [])
    .filter((e) => ENTITY_TAGS[e.type])
    .map((e) => ({ ...e, end: e.offset + e.length }))
    .sort((a, b) => a.offset - b.offset || b.length - a.length);

  function range(start, end, list) {
    const out = [];
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      if (entity.offset < pos) { i += 1; continue; }
      if (entity.offset > pos) out.push(text.slice(pos, entity.offset));
      const stop = Math.min(entity.end, end);
      const inner = list.filter((e) => e !== entity && e.offset >= entity.offset && e.end <= stop);
      const node = el(ENTITY_TAGS[entity.type], { class: `ent-${entity.type}` });
      if (entity.type === "text_link" || entity.type === "url") {
        const href = safeUrl(entity.type === "url" ? text.slice(entity.offset, stop) : entity.url);
        if (href) { node.href = href; node.target = "_blank"; node.rel = "noopener noreferrer"; }
      }
      if (entity.type === "spoiler") node.addEventListener("click", () => node.classList.add("revealed"));
      node.append(...range(entity.offset, stop, inner));
      out.push(node);
      pos = stop;
      i += 1;
    }
    if (pos < end) out.push(text.slice(pos, end));
    return out;
  }
  return range(0, text.length, sorted);
}

function currentUser() {
  return state.users.find((u) => u.id === state.userId) || null;
}

function roleBadge(role) {
  return role ? el("span", { class: "badge" }, role) : null;
}

function renderSidebar() {
  const users = $("users");
  users.replaceChildren(...state.users.map((user) => el("li", {
    class: user.id === state.userId ? "item active" : "item",
    "data-user-id": user.id,
    onclick: () => selectUser(user.id),
  },
  el("span", { class: "avatar" }, user.first_name.slice(0, 1)),
  el("span", { class: "item-main" },
    el("span", { class: "item-name" }, user.display_name, roleBadge(user.role)),
    el("span", { class: "item-sub" }, user.blocked ? "已屏蔽 blocked" : `ID ${user.id}`)))));

  const chats = $("chats");
  const visible = state.chats.filter((chat) => chat.id === state.userId || chat.members.includes(state.userId));
  chats.replaceChildren(...visible.map((chat) => el("li", {
    class: chat.id === state.chatId ? "item active" : "item",
    "data-chat-id": chat.id,
    onclick: () => selectChat(chat.id),
  },
  el("span", { class: "avatar bot" }, chat.type === "private" ? "机" : "群"),
  el("span", { class: "item-main" },
    el("span", { class: "item-name" }, chat.type === "private" ? (state.bot ? state.bot.first_name : "Bot") : chat.title),
    el("span", { class: "item-sub" }, chat.type === "private" ? "私聊 Private chat" : "群组 Group")))));
}

function senderName(view) {
  if (view.from_bot) return state.bot ? state.bot.first_name : "Bot";
  const from = view.message.from;
  return [from.first_name, from.last_name].filter(Boolean).join(" ");
}

function formatSize(bytes) {
  if (bytes > 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes > 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

function renderPoll(view) {
  const poll = view.message.poll;
  const mine = (view.poll_votes || {})[String(state.userId)] || [];
  const voted = mine.length > 0;
  const revealed = voted || poll.is_closed;
  const correct = poll.correct_option_ids || [];
  const box = el("div", { class: "poll" },
    el("div", { class: "poll-question" }, poll.question),
    el("div", { class: "poll-kind" },
      poll.type === "quiz" ? "测验 Quiz" : "投票 Poll",
      poll.is_anonymous ? " · 匿名 anonymous" : "",
      poll.is_closed ? " · 已结束 closed" : ""));
  const picked = new Set();
  poll.options.forEach((option, index) => {
    const share = poll.total_voter_count ? Math.round((100 * option.voter_count) / poll.total_voter_count) : 0;
    let mark = "";
    let cls = "poll-option";
    if (revealed && poll.type === "quiz" && correct.includes(index)) { cls += " correct"; mark = "✓"; }
    else if (revealed && mine.includes(index)) { cls += poll.type === "quiz" ? " wrong" : " chosen"; mark = poll.type === "quiz" ? "✗" : "•"; }
    const row = el("button", {
      class: cls,
      type: "button",
      "data-option": index,
      disabled: revealed && !poll.allows_revoting,
      onclick: () => {
        if (poll.allows_multiple_answers) {
          if (picked.has(index)) picked.delete(index); else picked.add(index);
          row.classList.toggle("picked");
        } else {
          vote(view, [index]);
        }
      },
    },
    el("span", { class: "poll-mark" }, mark),
    el("span", { class: "poll-text" }, option.text),
    revealed ? el("span", { class: "poll-share" }, `${share}%`) : null);
    if (revealed) row.style.setProperty("--share", `${share}%`);
    box.append(row);
  });
  if (poll.allows_multiple_answers && !poll.is_closed) {
    box.append(el("button", { class: "primary small", type: "button", onclick: () => vote(view, [...picked]) }, "投票 Vote"));
  }
  if (revealed && poll.type === "quiz") {
    const right = mine.length && mine.every((i) => correct.includes(i));
    box.append(el("div", { class: right ? "verdict right" : "verdict wrong", "data-testid": "verdict" },
      right ? "回答正确 Correct" : "回答错误 Incorrect"));
    if (poll.explanation) {
      box.append(el("div", { class: "explanation" }, el("b", {}, "解析 Explanation: "), ...renderEntities(poll.explanation, poll.explanation_entities)));
    }
  }
  box.append(el("div", { class: "poll-count" }, `${poll.total_voter_count} 人已投票 votes`));
  return box;
}

function renderMessage(view) {
  const msg = view.message;
  const mine = !view.from_bot && view.sender_id === state.userId;
  const bubble = el("div", { class: "bubble" });
  if (!mine && !view.from_bot || (view.from_bot && chatType() !== "private")) {
    bubble.append(el("div", { class: "sender" }, senderName(view)));
  }
  if (msg.reply_to_message) {
    const quoted = msg.reply_to_message;
    bubble.append(el("div", { class: "quote" }, quoted.text || quoted.caption || "[媒体 media]"));
  }
  if (msg.photo) {
    const largest = msg.photo[msg.photo.length - 1];
    bubble.append(el("img", { class: "photo", src: `/sandbox/files/${encodeURIComponent(largest.file_id)}`, alt: "photo", width: largest.width, height: largest.height }));
  }
  if (msg.document) {
    bubble.append(el("a", { class: "document", href: `/sandbox/files/${encodeURIComponent(msg.document.file_id)}`, download: msg.document.file_name || "file" },
      el("span", { class: "doc-icon" }, ((msg.document.file_name || "").split(".").pop() || "file").slice(0, 4).toUpperCase()),
      el("span", {}, el("div", { class: "doc-name" }, msg.document.file_name || "file"),
        el("div", { class: "doc-size" }, formatSize(msg.document.file_size || 0)))));
  }
  if (msg.poll) bubble.append(renderPoll(view));
  const text = msg.text ?? msg.caption;
  if (text) bubble.append(el("div", { class: "text" }, ...renderEntities(text, msg.entities || msg.caption_entities)));
  const time = new Date(msg.date * 1000).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });
  bubble.append(el("div", { class: "meta" }, view.edits ? "已编辑 edited · " : "", time,
    el("button", { class: "link small", type: "button", title: "回复 Reply", onclick: () => setReply(view) }, "↩")));

  const keyboard = (msg.reply_markup || {}).inline_keyboard || [];
  const rows = keyboard.map((row) => el("div", { class: "kb-row" }, row.map((button) => {
    if (button.url) {
      const href = safeUrl(button.url);
      return el("a", { class: "kb-button", href: href || "#", target: "_blank", rel: "noopener noreferrer" }, `${button.text} ↗`);
    }
    return el("button", { class: "kb-button", type: "button", onclick: () => press(view, button) }, button.text);
  })));
  return el("div", {
    class: `row ${mine ? "mine" : "theirs"}${view.from_bot ? " from-bot" : ""}`,
    "data-message-id": view.message_id,
  }, el("div", { class: "stack" }, bubble, rows.length ? el("div", { class: "keyboard" }, rows) : null));
}

function chatType() {
  const chat = state.chats.find((c) => c.id === state.chatId);
  return chat ? chat.type : "private";
}

function renderMessages() {
  const box = $("messages");
  const views = [...state.messages.values()].sort((a, b) => a.message_id - b.message_id);
  if (!views.length) {
    box.replaceChildren(el("div", { class: "empty" }, "还没有消息，发送 /start 开始 · No messages yet, send /start"));
  } else {
    box.replaceChildren(...views.map(renderMessage));
  }
  box.scrollTop = box.scrollHeight;
  renderReplyKeyboard(views);
}

function renderReplyKeyboard(views) {
  const holder = $("reply-keyboard");
  const latest = [...views].reverse().find((v) => v.from_bot && v.reply_keyboard);
  const markup = latest ? latest.reply_keyboard : null;
  if (!markup || !markup.keyboard) { holder.hidden = true; holder.replaceChildren(); return; }
  holder.hidden = false;
  holder.replaceChildren(...markup.keyboard.map((row) => el("div", { class: "kb-row" }, row.map((button) => {
    const label = typeof button === "string" ? button : button.text;
    return el("button", { class: "kb-button", type: "button", onclick: () => sendText(label) }, label);
  }))));
}

function upsert(view) {
  if (view.chat_id !== state.chatId) return;
  state.messages.set(view.message_id, view);
  renderMessages();
}

async function loadChat() {
  if (state.chatId === null) return;
  const data = await api("GET", `/chats/${state.chatId}/messages`);
  state.messages = new Map(data.messages.map((view) => [view.message_id, view]));
  renderMessages();
}

async function refreshPeople() {
  [state.users, state.chats] = await Promise.all([api("GET", "/users"), api("GET", "/chats")]);
  renderSidebar();
  renderHeader();
}

function renderHeader() {
  const user = currentUser();
  const chat = state.chats.find((c) => c.id === state.chatId);
  $("chat-title").textContent = !chat ? "请选择用户 · Pick a user"
    : chat.type === "private" ? `${state.bot ? state.bot.first_name : "Bot"}` : chat.title;
  $("chat-sub").textContent = user ? `以 ${user.display_name}${user.role ? `（${user.role}）` : ""} 身份 · acting as ${user.display_name}` : "";
  const block = $("block");
  block.hidden = !user;
  if (user) block.textContent = user.blocked ? "解除屏蔽 Unblock bot" : "屏蔽机器人 Block bot";
  const enabled = Boolean(user && chat);
  $("text").disabled = !enabled;
  $("send").disabled = !enabled;
}

async function selectUser(userId) {
  state.userId = userId;
  state.chatId = userId;
  setReply(null);
  renderSidebar();
  renderHeader();
  await loadChat();
  $("text").focus();
}

async function selectChat(chatId) {
  state.chatId = chatId;
  setReply(null);
  renderSidebar();
  renderHeader();
  await loadChat();
}

function setReply(view) {
  state.replyTo = view;
  $("reply-bar").hidden = !view;
  $("reply-text").textContent = view ? (view.message.text || view.message.caption || "[媒体 media]").slice(0, 60) : "";
}

function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 2500);
}

function showError(error) {
  toast(`⚠ ${error.message}`);
}

async function sendText(text) {
  if (!text.trim() || state.userId === null) return;
  const body = { text, chat_id: state.chatId, reply_to: state.replyTo ? state.replyTo.message_id : null };
  setReply(null);
  try {
    const data = await api("POST", `/users/${state.userId}/send`, body);
    upsert(data.message);
  } catch (error) { showError(error); }
}

async function sendFiles(files, kind) {
  if (!files.length || state.userId === null) return;
  const form = new FormData();
  for (const file of files) form.append(kind, file, file.name);
  const caption = $("text").value.trim();
  if (caption) form.append("caption", caption);
  form.append("chat_id", String(state.chatId));
  if (state.replyTo) form.append("reply_to", String(state.replyTo.message_id));
  $("text").value = "";
  setReply(null);
  try {
    const data = await api("POST", `/users/${state.userId}/media`, form);
    data.messages.forEach(upsert);
  } catch (error) { showError(error); }
}

async function press(view, button) {
  try {
    await api("POST", `/users/${state.userId}/press`, {
      chat_id: view.chat_id, message_id: view.message_id, text: button.text, callback_data: button.callback_data,
    });
  } catch (error) { showError(error); }
}

async function vote(view, optionIds) {
  try {
    const data = await api("POST", `/users/${state.userId}/poll_answer`, {
      chat_id: view.chat_id, message_id: view.message_id, option_ids: optionIds,
    });
    upsert(data.message);
  } catch (error) { showError(error); }
}

async function toggleCommands() {
  const box = $("commands");
  if (!box.hidden) { box.hidden = true; return; }
  const commands = await api("GET", `/chats/${state.chatId}/commands?user_id=${state.userId}`);
  box.replaceChildren(...(commands.length ? commands.map((c) => el("button", {
    class: "command", type: "button",
    onclick: () => { $("text").value = `/${c.command} `; box.hidden = true; $("text").focus(); },
  }, el("b", {}, `/${c.command}`), el("span", {}, c.description)))
    : [el("div", { class: "empty small" }, "机器人还没有设置命令 · No commands set")]));
  box.hidden = false;
}

function onEvent(event) {
  switch (event.event) {
    case "message":
    case "message_edited":
      upsert(event.message);
      break;
    case "message_deleted":
      if (event.chat_id === state.chatId) { state.messages.delete(event.message_id); renderMessages(); }
      break;
    case "callback_answer":
      if (event.user_id !== state.userId) break;
      if (event.show_alert && event.text) {
        $("alert-text").textContent = event.text;
        $("alert").hidden = false;
      } else if (event.text) {
        toast(event.text);
      }
      if (event.url) window.open(event.url, "_blank", "noopener");
      break;
    case "chat_action":
      if (event.chat_id !== state.chatId) break;
      $("typing").hidden = false;
      clearTimeout(state.typingTimer);
      state.typingTimer = setTimeout(() => { $("typing").hidden = true; }, 5000);
      break;
    case "user_added":
    case "chat_added":
    case "user_changed":
      refreshPeople();
      break;
    default:
      break;
  }
  if (event.event === "message" && event.message.from_bot && event.chat_id === state.chatId) {
    $("typing").hidden = true;
  }
}

function connect() {
  const protocol = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${protocol}://${window.location.host}/sandbox/ws`);
  socket.onopen = () => {
    $("conn").classList.add("on");
    $("conn-text").textContent = "已连接 Live";
    loadChat().catch(showError);
  };
  socket.onmessage = (message) => onEvent(JSON.parse(message.data));
  socket.onclose = () => {
    $("conn").classList.remove("on");
    $("conn-text").textContent = "重新连接中 Reconnecting";
    setTimeout(connect, 1000);
  };
}

async function main() {
  const info = await api("GET", "/info");
  state.bot = info.bot;
  $("bot-name").textContent = `@${info.bot.username}`;
  await refreshPeople();
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    $("text").value = "";
    sendText(text);
  });
  $("photo-input").addEventListener("change", (event) => { sendFiles([...event.target.files], "photo"); event.target.value = ""; });
  $("doc-input").addEventListener("change", (event) => { sendFiles([...event.target.files], "document"); event.target.value = ""; });
  $("reply-cancel").addEventListener("click", () => setReply(null));
  $("cmd-button").addEventListener("click", () => { if (state.chatId !== null) toggleCommands().catch(showError); });
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
  $("block").addEventListener("click", async () => {
    const user = currentUser();
    if (!user) return;
    try { await api("POST", `/users/${user.id}/${user.blocked ? "unblock" : "block"}`); await refreshPeople(); }
    catch (error) { showError(error); }
  });
  const wanted = new URLSearchParams(window.location.search).get("user");
  if (wanted && state.users.some((u) => String(u.id) === wanted)) await selectUser(Number(wanted));
  connect();
}

main().catch(showError);
