"""The demo: a sandbox, the bot and a sample campaign in one command."""
