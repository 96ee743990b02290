"""Tasks at the Telegram edge: cards, buttons, the owners' and the office's commands."""
