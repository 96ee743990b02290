"""Domain rules. Services take and return plain values and never see `telegram.Update`."""
