"""Evidence: uploads, review, integrity and the inspectors' archive."""
