"""Tasks: what a responsible person and the office do to a task, and how it is shown."""
