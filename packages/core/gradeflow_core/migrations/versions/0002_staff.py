"""staff: policies, extensions, validation and regrade runs, score overrides, submission purpose

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:52:40.116709
"""
from alembic import op
import sqlalchemy as sa
import gradeflow_core.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _add_missing_current_version_fk() -> None:
    """0001 declared assignments.current_version_id's foreign key with use_alter, which op.create_table skips on
    PostgreSQL (SQLite inlines it); add it where it is missing."""
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        return
    names = {fk['name'] for fk in sa.inspect(bind).get_foreign_keys('assignments')}
    if 'fk_assignment_current_version' not in names:
        op.create_foreign_key('fk_assignment_current_version', 'assignments', 'assignment_versions',
                              ['current_version_id'], ['id'])


def upgrade() -> None:
    # Added columns carry constant server defaults, so SQLite adds them in place (no table rebuild).
    op.create_table('assignment_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('opens_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('due_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('grace_minutes', sa.Integer(), nullable=False),
    sa.Column('late_mode', sa.String(length=16), nullable=False),
    sa.Column('penalty_percent_per_day', sa.Float(), nullable=False),
    sa.Column('penalty_cap_percent', sa.Float(), nullable=False),
    sa.Column('counted', sa.String(length=16), nullable=False),
    sa.Column('max_per_day', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assignment_id')
    )
    op.create_table('extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('due_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=True),
    sa.Column('created_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
    sa.ForeignKeyConstraint(['granted_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assignment_id', 'user_id')
    )
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extensions_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_extensions_user_id'), ['user_id'], unique=False)

    op.create_table('score_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('previous_score', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('score_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_overrides_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_overrides_user_id'), ['user_id'], unique=False)

    op.create_table('regrade_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('created_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('activated_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('activated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activated_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
    sa.ForeignKeyConstraint(['started_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['assignment_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('regrade_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regrade_runs_assignment_id'), ['assignment_id'], unique=False)

    op.create_table('regrade_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('source_submission_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('before_score', sa.Float(), nullable=True),
    sa.Column('adopted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['regrade_runs.id'], ),
    sa.ForeignKeyConstraint(['source_submission_id'], ['submissions.id'], ),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'source_submission_id'),
    sa.UniqueConstraint('submission_id')
    )
    with op.batch_alter_table('regrade_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regrade_items_run_id'), ['run_id'], unique=False)

    op.create_table('validation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('expected_score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['assignment_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id')
    )
    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_validation_runs_version_id'), ['version_id'], unique=False)

    with op.batch_alter_table('assignment_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='ready', nullable=False))
        batch_op.add_column(sa.Column('problems', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('activate_when_ready', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('validated_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='student', nullable=False))
        batch_op.create_index(batch_op.f('ix_submissions_purpose'), ['purpose'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sis_id', sa.String(length=64), server_default='', nullable=False))

    _add_missing_current_version_fk()



def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place; a batch rebuild of these tables would trip their foreign keys
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('sis_id')

    with op.batch_alter_table('submissions', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_purpose'))
        batch_op.drop_column('purpose')

    with op.batch_alter_table('assignment_versions', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('validated_at')
        batch_op.drop_column('activate_when_ready')
        batch_op.drop_column('problems')
        batch_op.drop_column('state')

    with op.batch_alter_table('validation_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_validation_runs_version_id'))

    op.drop_table('validation_runs')
    with op.batch_alter_table('regrade_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regrade_items_run_id'))

    op.drop_table('regrade_items')
    with op.batch_alter_table('regrade_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regrade_runs_assignment_id'))

    op.drop_table('regrade_runs')
    with op.batch_alter_table('score_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_overrides_user_id'))
        batch_op.drop_index(batch_op.f('ix_score_overrides_assignment_id'))

    op.drop_table('score_overrides')
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extensions_user_id'))
        batch_op.drop_index(batch_op.f('ix_extensions_assignment_id'))

    op.drop_table('extensions')
    op.drop_table('assignment_policies')
