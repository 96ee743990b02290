"""Reminders: policy, sweeps, escalation, digests and countdowns."""
