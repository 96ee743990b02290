"""Backup and restore: the database, the evidence store and the kept import files in one
archive with a manifest (`inspectbot backup OUT`, `inspectbot restore IN`)."""
