"""task tallies: counts per unit and per indicator × phase kept by triggers, the marks
up to which they count late tasks, the deadline index widened to carry the groups, and
(PostgreSQL) the indicator report index carrying the task id

Revision ID: 0011_task_tallies
Revises: 0010_task_version
Create Date: 2026-11-29 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from db.models.tallies import backfill, drop_triggers, install_triggers

revision: str = '0011_task_tallies'
down_revision: str | None = '0010_task_version'

_REPORT = ['campaign_id', 'indicator_id', 'phase_id', 'status', 'due_at', 'progress', 'unit_id',
           'owner_id']
_WIDE = ['campaign_id', 'status', 'due_at', 'unit_id', 'indicator_id', 'phase_id']


def upgrade() -> None:
    op.create_table('task_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.SmallInteger(), nullable=False),
    sa.Column('k1', sa.Integer(), nullable=True),
    sa.Column('k2', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('blocked', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('undated', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_tallies'))
    )
    with op.batch_alter_table('task_tallies', schema=None) as batch_op:
        batch_op.create_index('ix_task_tallies_campaign_id', ['campaign_id', 'id'], unique=False)
    op.create_table('task_tally_marks',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('mark', sa.DateTime(timezone=True), nullable=False),
    sa.Column('previous', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_task_tally_marks_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_task_tally_marks'))
    )
    # Plain index statements, not a batch: on SQLite a batch copies `tasks` and would
    # lose the triggers installed below.
    op.drop_index('ix_tasks_campaign_status_due', table_name='tasks')
    op.create_index('ix_tasks_campaign_status_due', 'tasks', _WIDE, unique=False)
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        op.drop_index('ix_tasks_report_indicator_phase', table_name='tasks')
        op.create_index('ix_tasks_report_indicator_phase', 'tasks', _REPORT, unique=False,
                        postgresql_include=['id'])
    backfill(connection)
    install_triggers(connection)


def downgrade() -> None:
    connection = op.get_bind()
    drop_triggers(connection)
    if connection.dialect.name == 'postgresql':
        op.drop_index('ix_tasks_report_indicator_phase', table_name='tasks')
        op.create_index('ix_tasks_report_indicator_phase', 'tasks', _REPORT, unique=False)
    op.drop_index('ix_tasks_campaign_status_due', table_name='tasks')
    op.create_index('ix_tasks_campaign_status_due', 'tasks', _WIDE[:3], unique=False)
    op.drop_table('task_tally_marks')
    with op.batch_alter_table('task_tallies', schema=None) as batch_op:
        batch_op.drop_index('ix_task_tallies_campaign_id')
    op.drop_table('task_tallies')
