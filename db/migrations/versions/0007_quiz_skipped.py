"""quiz: count the questions a session skipped, so its end tells them from the answered

Revision ID: 0007_quiz_skipped
Revises: 0006_indicators
Create Date: 2026-11-23 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0007_quiz_skipped'
down_revision: str | None = '0006_indicators'


def upgrade() -> None:
    with op.batch_alter_table('quiz_sessions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('skipped', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('quiz_sessions', schema=None) as batch_op:
        batch_op.drop_column('skipped')
