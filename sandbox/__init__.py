"""A local Telegram Bot API server with simulated people, a web chat and a test client.

Nothing here imports the bot itself: the sandbox stands in for Telegram and
knows the bot only through the Bot API.
"""
