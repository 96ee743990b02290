"""reminder policy seen: the fingerprint of the policy a campaign's cursors were derived
with, so that a changed policy has them looked at again

Revision ID: 0012_reminder_policy_seen
Revises: 0011_task_tallies
Create Date: 2026-11-30 03:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0012_reminder_policy_seen'
down_revision: str | None = '0011_task_tallies'


def upgrade() -> None:
    op.create_table('reminder_policy_seen',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_reminder_policy_seen_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_reminder_policy_seen'))
    )


def downgrade() -> None:
    op.drop_table('reminder_policy_seen')
