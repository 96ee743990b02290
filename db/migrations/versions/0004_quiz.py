"""quiz: question bank, cards, reviews, sessions, polls

Revision ID: 0004_quiz
Revises: 0003_evidence
Create Date: 2026-11-22 02:26:09.223675
"""

import sqlalchemy as sa
from alembic import op


revision: str = '0004_quiz'
down_revision: str | None = '0003_evidence'


def upgrade() -> None:
    op.create_table('quiz_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('single', 'multiple', 'truefalse', 'open', name='questionkind', native_enum=False, length=20), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('difficulty', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('key_points', sa.JSON(), nullable=False),
    sa.Column('model_answer', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_quiz_questions_indicator_id_indicators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_questions')),
    sa.UniqueConstraint('key', name=op.f('uq_quiz_questions_key'))
    )
    with op.batch_alter_table('quiz_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_questions_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('quiz_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('stability', sa.Float(), nullable=True),
    sa.Column('difficulty', sa.Float(), nullable=True),
    sa.Column('due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_review', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reps', sa.Integer(), nullable=False),
    sa.Column('lapses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_quiz_cards_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_questions.id'], name=op.f('fk_quiz_cards_question_id_quiz_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_cards')),
    sa.UniqueConstraint('person_id', 'question_id', name='uq_quiz_cards_person_question')
    )
    with op.batch_alter_table('quiz_cards', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_cards_person_due', ['person_id', 'due'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_cards_question_id'), ['question_id'], unique=False)

    op.create_table('quiz_preferences',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('review_time', sa.Time(), nullable=True),
    sa.Column('reminders_on', sa.Boolean(), nullable=False),
    sa.Column('last_reminded_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_quiz_preferences_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_quiz_preferences'))
    )
    op.create_table('quiz_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('quiz', 'drill', name='sessionkind', native_enum=False, length=20), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_quiz_reviews_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_questions.id'], name=op.f('fk_quiz_reviews_question_id_quiz_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_reviews'))
    )
    with op.batch_alter_table('quiz_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_reviews_at'), ['at'], unique=False)
        batch_op.create_index('ix_quiz_reviews_person_at', ['person_id', 'at'], unique=False)

    op.create_table('quiz_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('quiz', 'drill', name='sessionkind', native_enum=False, length=20), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=True),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('asked', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('asked_ids', sa.JSON(), nullable=False),
    sa.Column('current_question_id', sa.Integer(), nullable=True),
    sa.Column('current_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_message_id', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['current_question_id'], ['quiz_questions.id'], name=op.f('fk_quiz_sessions_current_question_id_quiz_questions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_quiz_sessions_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_sessions'))
    )
    with op.batch_alter_table('quiz_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_sessions_person_open', ['person_id', 'ended_at'], unique=False)

    op.create_table('quiz_polls',
    sa.Column('poll_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_quiz_polls_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_questions.id'], name=op.f('fk_quiz_polls_question_id_quiz_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['quiz_sessions.id'], name=op.f('fk_quiz_polls_session_id_quiz_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_quiz_polls'))
    )
    with op.batch_alter_table('quiz_polls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_polls_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quiz_polls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_polls_session_id'))

    op.drop_table('quiz_polls')
    with op.batch_alter_table('quiz_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_sessions_person_open')

    op.drop_table('quiz_sessions')
    with op.batch_alter_table('quiz_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_reviews_person_at')
        batch_op.drop_index(batch_op.f('ix_quiz_reviews_at'))

    op.drop_table('quiz_reviews')
    op.drop_table('quiz_preferences')
    with op.batch_alter_table('quiz_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_cards_question_id'))
        batch_op.drop_index('ix_quiz_cards_person_due')

    op.drop_table('quiz_cards')
    with op.batch_alter_table('quiz_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_questions_indicator_id'))

    op.drop_table('quiz_questions')
