"""indicators: the campaign's standard set and check links, schools and their yearly
figures with a change history, budgets, disabled enrolment, survey results,
self-assessment marks, pending school-data imports, improvement plans, edit prompts

Revision ID: 0006_indicators
Revises: 0005_reports
Create Date: 2026-11-29 08:10:08.290398
"""

import sqlalchemy as sa
from alembic import op

revision: str = '0006_indicators'
down_revision: str | None = '0005_reports'


def upgrade() -> None:
    op.create_table('indicator_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('check_key', sa.String(length=100), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_indicator_links_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_links_indicator_id_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_links')),
    sa.UniqueConstraint('campaign_id', 'check_key', name='uq_indicator_links_campaign_check')
    )
    with op.batch_alter_table('indicator_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_links_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('indicator_settings',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sa.String(length=64), nullable=False),
    sa.Column('standard_version', sa.Integer(), nullable=False),
    sa.Column('standard_yaml', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_indicator_settings_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_indicator_settings'))
    )
    op.create_table('school_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('part', sa.Enum('primary', 'junior', 'whole', name='figurepart', native_enum=False, length=20), nullable=False),
    sa.Column('resource', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_school_figures_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_figures')),
    sa.UniqueConstraint('unit_id', 'year', 'part', 'resource', name='uq_school_figures_unit_year_part_resource')
    )
    with op.batch_alter_table('school_figures', schema=None) as batch_op:
        batch_op.create_index('ix_school_figures_year_unit', ['year', 'unit_id'], unique=False)

    op.create_table('schools',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('primary', 'junior', 'nine_year', name='schoollevel', native_enum=False, length=20), nullable=False),
    sa.Column('teaching_point', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_schools_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_schools'))
    )
    op.create_table('budget_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('appropriation', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('recurrent_revenue', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('per_student_expense', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('per_student_public_funds', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['persons.id'], name=op.f('fk_budget_years_updated_by_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_budget_years'))
    )
    op.create_table('disabled_enrolment',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('enrolled', sa.Integer(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['persons.id'], name=op.f('fk_disabled_enrolment_updated_by_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_disabled_enrolment'))
    )
    op.create_table('improvement_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('improvements', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_improvement_plans_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_improvement_plans_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_plans'))
    )
    op.create_table('indicator_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_indicator_imports_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_indicator_imports_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_imports')),
    sa.UniqueConstraint('token', name=op.f('uq_indicator_imports_token'))
    )
    op.create_table('school_edit_prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('part', sa.Enum('primary', 'junior', 'whole', name='figurepart', native_enum=False, length=20), nullable=False),
    sa.Column('resource', sa.String(length=64), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_school_edit_prompts_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_school_edit_prompts_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_edit_prompts')),
    sa.UniqueConstraint('chat_id', 'message_id', name='uq_school_edit_prompts_chat_message')
    )
    with op.batch_alter_table('school_edit_prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_edit_prompts_person_id'), ['person_id'], unique=False)

    op.create_table('school_figure_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('part', sa.Enum('primary', 'junior', 'whole', name='figurepart', native_enum=False, length=20), nullable=False),
    sa.Column('resource', sa.String(length=64), nullable=False),
    sa.Column('old_amount', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('new_amount', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['persons.id'], name=op.f('fk_school_figure_changes_actor_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_school_figure_changes_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_figure_changes'))
    )
    with op.batch_alter_table('school_figure_changes', schema=None) as batch_op:
        batch_op.create_index('ix_school_figure_changes_unit_year', ['unit_id', 'year'], unique=False)

    op.create_table('self_assessment_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('deductions', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_self_assessment_marks_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['persons.id'], name=op.f('fk_self_assessment_marks_updated_by_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessment_marks')),
    sa.UniqueConstraint('campaign_id', 'sheet_id', 'item_id', name='uq_self_assessment_marks_campaign_sheet_item')
    )
    op.create_table('survey_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['persons.id'], name=op.f('fk_survey_results_updated_by_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_results')),
    sa.UniqueConstraint('year', 'group_id', name='uq_survey_results_year_group')
    )


def downgrade() -> None:
    op.drop_table('survey_results')
    op.drop_table('self_assessment_marks')
    with op.batch_alter_table('school_figure_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_school_figure_changes_unit_year')

    op.drop_table('school_figure_changes')
    with op.batch_alter_table('school_edit_prompts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_edit_prompts_person_id'))

    op.drop_table('school_edit_prompts')
    op.drop_table('indicator_imports')
    op.drop_table('improvement_plans')
    op.drop_table('disabled_enrolment')
    op.drop_table('budget_years')
    op.drop_table('schools')
    with op.batch_alter_table('school_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_school_figures_year_unit')

    op.drop_table('school_figures')
    op.drop_table('indicator_settings')
    with op.batch_alter_table('indicator_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_links_indicator_id'))

    op.drop_table('indicator_links')
