"""Reminders at the Telegram edge: reminder buttons, /settings and /undelivered."""
