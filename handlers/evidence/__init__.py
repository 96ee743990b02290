"""Evidence at the Telegram edge: uploads, albums, submitting, review and the archive."""
