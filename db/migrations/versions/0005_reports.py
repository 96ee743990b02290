"""reports: bulletin log, covering indexes for the summary's aggregations

Revision ID: 0005_reports
Revises: 0004_quiz
Create Date: 2026-11-22 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0005_reports'
down_revision: str | None = '0004_quiz'

_INDEXES = {
    'ix_tasks_report_unit': ['campaign_id', 'unit_id', 'status', 'due_at', 'progress', 'owner_id'],
    'ix_tasks_report_indicator_phase': [
        'campaign_id', 'indicator_id', 'phase_id', 'status', 'due_at', 'progress', 'unit_id',
        'owner_id',
    ],
}

def upgrade() -> None:
    op.create_table('bulletin_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_bulletin_log_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_log')),
    sa.UniqueConstraint('key', name=op.f('uq_bulletin_log_key'))
    )
    with op.batch_alter_table('bulletin_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulletin_log_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        for name, columns in _INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)

    with op.batch_alter_table('bulletin_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletin_log_sent_at'))

    op.drop_table('bulletin_log')
