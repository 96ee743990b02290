"""task documents: a task's co-operating units, its responsible leader, named evidence

Revision ID: 0008_task_documents
Revises: 0007_quiz_skipped
Create Date: 2026-11-29 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0008_task_documents'
down_revision: str | None = '0007_quiz_skipped'


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('evidence_items', sa.Text(), server_default='[]',
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_tasks_leader_id'), ['leader_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_leader_id_persons'), 'persons',
                                    ['leader_id'], ['id'], ondelete='SET NULL')

    op.create_table('task_partners',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_partners_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_task_partners_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'unit_id', name=op.f('pk_task_partners'))
    )
    with op.batch_alter_table('task_partners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_partners_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_partners_unit_id'))
    op.drop_table('task_partners')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_leader_id_persons'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tasks_leader_id'))
        batch_op.drop_column('evidence_items')
        batch_op.drop_column('leader_id')
