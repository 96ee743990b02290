"""task version: a change counter whose bump takes the task's row for the transaction

Revision ID: 0010_task_version
Revises: 0009_outbox_task_state
Create Date: 2026-11-24 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0010_task_version'
down_revision: str | None = '0009_outbox_task_state'


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('version')
