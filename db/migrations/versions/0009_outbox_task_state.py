"""outbox: a task's waiting reminders found by (task, state), not among every waiting row

The sweep reads a batch of tasks' pending reminders with `task_id IN (…) AND state =
'pending'`. With only an index on `task_id` SQLite chose the `(state, not_before)` index
and scanned every pending message (tens of thousands while a morning's reminders go out)
for each batch. The composite index answers it directly and still serves `task_id` alone
(the foreign key's ON DELETE SET NULL), so it replaces the old one.

Revision ID: 0009_outbox_task_state
Revises: 0008_task_documents
Create Date: 2026-11-23 09:00:00.000000
"""

from alembic import op

revision: str = '0009_outbox_task_state'
down_revision: str | None = '0008_task_documents'


def upgrade() -> None:
    op.create_index('ix_outbox_task_id_state', 'outbox', ['task_id', 'state'], unique=False)
    op.drop_index('ix_outbox_task_id', table_name='outbox')


def downgrade() -> None:
    op.create_index('ix_outbox_task_id', 'outbox', ['task_id'], unique=False)
    op.drop_index('ix_outbox_task_id_state', table_name='outbox')
