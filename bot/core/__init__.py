"""What every feature shares: access, roster, parsing, deadlines, clock, events, errors."""
