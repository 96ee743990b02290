"""evidence: files attached to tasks, their review, uploads in flight

Revision ID: 0003_evidence
Revises: 0002_reminders
Create Date: 2026-11-22 02:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0003_evidence'
down_revision: str | None = '0002_reminders'


def upgrade() -> None:
    op.create_table('evidence_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('batch_key', sa.String(length=64), nullable=False),
    sa.Column('media_group_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.Enum('photo', 'document', name='evidencekind', native_enum=False, length=20), nullable=False),
    sa.Column('file_id', sa.String(length=200), nullable=False),
    sa.Column('file_unique_id', sa.String(length=100), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('mime_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('named_task_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_evidence_inbox_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_inbox'))
    )
    with op.batch_alter_table('evidence_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_inbox_person_batch', ['person_id', 'batch_key'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('photo', 'document', name='evidencekind', native_enum=False, length=20), nullable=False),
    sa.Column('file_id', sa.String(length=200), nullable=False),
    sa.Column('file_unique_id', sa.String(length=100), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('mime_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('media_group_id', sa.String(length=64), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exif_taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exif_latitude', sa.Float(), nullable=True),
    sa.Column('exif_longitude', sa.Float(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='evidencestatus', native_enum=False, length=20), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['persons.id'], name=op.f('fk_evidence_reviewer_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_evidence_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['persons.id'], name=op.f('fk_evidence_uploader_id_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('task_id', 'sha256', name='uq_evidence_task_sha256')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_file_unique_id'), ['file_unique_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_sha256'), ['sha256'], unique=False)
        batch_op.create_index('ix_evidence_status_uploaded', ['status', 'uploaded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_task_id'), ['task_id'], unique=False)

    op.create_table('evidence_upload_targets',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_evidence_upload_targets_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_evidence_upload_targets_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_evidence_upload_targets'))
    )


def downgrade() -> None:
    op.drop_table('evidence_upload_targets')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_task_id'))
        batch_op.drop_index('ix_evidence_status_uploaded')
        batch_op.drop_index(batch_op.f('ix_evidence_sha256'))
        batch_op.drop_index(batch_op.f('ix_evidence_file_unique_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('evidence_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_inbox_person_batch')

    op.drop_table('evidence_inbox')

