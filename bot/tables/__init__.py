"""The breakdown table: import, export and the campaign file."""
