"""Queries. Functions take the session keyword-only and only flush; callers commit."""
