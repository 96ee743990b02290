"""The Telegram edge: narrow the update, call a service, render a text, reply.

Each module exposes `register(app, services)`; `bot.app.build_application` calls them.
"""
