"""迎检协同机器人 — the services, wiring and command line of the inspection-preparation bot."""
