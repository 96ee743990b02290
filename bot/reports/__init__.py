"""Reports: the leaders' summary, charts, the ledger and bulletins."""
