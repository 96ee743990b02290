"""Delivery: the outbox, its dispatcher and pacer — the only part that sends on its own."""
