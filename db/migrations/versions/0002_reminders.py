"""reminders: outbox of unprompted messages, sweep cursors, snoozes, campaign policies

Revision ID: 0002_reminders
Revises: 0001_foundation
Create Date: 2026-11-22 02:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0002_reminders'
down_revision: str | None = '0001_foundation'


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reply_markup', sa.Text(), nullable=True),
    sa.Column('photo_path', sa.String(length=500), nullable=True),
    sa.Column('document_path', sa.String(length=500), nullable=True),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('pending', 'claimed', 'sent', 'failed', 'dead', 'cancelled', name='outboxstate', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_outbox_person_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_outbox_task_id_tasks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_not_before', ['state', 'not_before'], unique=False)
        batch_op.create_index('ix_outbox_task_id', ['task_id'], unique=False)

    op.create_table('reminder_cursors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('derived_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_cursors')),
    sa.UniqueConstraint('subject', 'subject_id', name='uq_reminder_cursors_subject')
    )
    with op.batch_alter_table('reminder_cursors', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_cursors_next_at', ['next_at'], unique=False)

    op.create_table('reminder_snoozes',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_reminder_snoozes_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_reminder_snoozes_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'person_id', name=op.f('pk_reminder_snoozes'))
    )
    op.create_table('reminder_policies',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('overrides', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_reminder_policies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_reminder_policies'))
    )


def downgrade() -> None:
    op.drop_table('reminder_policies')
    op.drop_table('reminder_snoozes')
    with op.batch_alter_table('reminder_cursors', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_cursors_next_at')
    op.drop_table('reminder_cursors')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_task_id')
        batch_op.drop_index('ix_outbox_state_not_before')
    op.drop_table('outbox')
