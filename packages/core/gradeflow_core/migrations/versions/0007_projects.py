"""projects: teams (memberships, invitations, settings), contest scores, reveals and picks, rubric grading

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 00:30:00
"""
from alembic import op
import sqlalchemy as sa

from gradeflow_core.models import TZDateTime


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column('id', sa.Integer(), primary_key=True)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=nullable)


def upgrade() -> None:
    _teams()
    _contests()
    _rubrics()


def _teams() -> None:
    op.create_table(
        'teams', _id(), _fk('course_id', 'courses.id'),
        sa.Column('name', sa.String(length=80), nullable=False),
        _fk('created_by', 'users.id', nullable=True),
        sa.Column('created_at', TZDateTime(), nullable=False),
        sa.UniqueConstraint('course_id', 'name'),
    )
    op.create_index('ix_teams_course_id', 'teams', ['course_id'])
    op.create_table(
        'team_memberships', _id(), _fk('team_id', 'teams.id'), _fk('user_id', 'users.id'),
        sa.Column('joined_at', TZDateTime(), nullable=False),
        sa.Column('left_at', TZDateTime(), nullable=True),
    )
    op.create_index('ix_team_memberships_team_id', 'team_memberships', ['team_id'])
    op.create_index('ix_team_memberships_user_id', 'team_memberships', ['user_id'])
    op.create_table(
        'team_invitations', _id(), _fk('team_id', 'teams.id'), _fk('invitee_id', 'users.id'),
        _fk('invited_by', 'users.id'),
        sa.Column('created_at', TZDateTime(), nullable=False),
        sa.Column('answered_at', TZDateTime(), nullable=True),
        sa.Column('accepted', sa.Boolean(), nullable=True),
    )
    op.create_index('ix_team_invitations_team_id', 'team_invitations', ['team_id'])
    op.create_index('ix_team_invitations_invitee_id', 'team_invitations', ['invitee_id'])
    op.create_table(
        'team_settings', _id(), sa.Column('course_id', sa.Integer(), sa.ForeignKey('courses.id'), nullable=False,
                                          unique=True),
        sa.Column('students_form', sa.Boolean(), nullable=False),
        sa.Column('max_size', sa.Integer(), nullable=False),
        sa.Column('form_until', TZDateTime(), nullable=True),
    )
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('void', sa.Boolean(), nullable=False, server_default='0'))
        batch.create_foreign_key('fk_submissions_team_id', 'teams', ['team_id'], ['id'])
        batch.create_index('ix_submissions_team_id', ['team_id'])


def _contests() -> None:
    op.create_table(
        'contest_scores', _id(),
        sa.Column('submission_id', sa.Integer(), sa.ForeignKey('submissions.id'), nullable=False, unique=True),
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('public', sa.Float(), nullable=True),
        sa.Column('private', sa.Float(), nullable=True),
        sa.Column('private_low', sa.Float(), nullable=True),
        sa.Column('private_high', sa.Float(), nullable=True),
        sa.Column('problem', sa.Text(), nullable=False),
        sa.Column('created_at', TZDateTime(), nullable=False),
    )
    op.create_table(
        'contest_reveals', _id(),
        sa.Column('assignment_id', sa.Integer(), sa.ForeignKey('assignments.id'), nullable=False, unique=True),
        sa.Column('revealed_at', TZDateTime(), nullable=False),
        _fk('revealed_by', 'users.id', nullable=True),
        sa.Column('gradebook_mode', sa.String(length=16), nullable=False),
    )
    op.create_table(
        'contest_picks', _id(), _fk('assignment_id', 'assignments.id'), _fk('submission_id', 'submissions.id'),
        sa.Column('owner', sa.String(length=32), nullable=False),
        _fk('picked_by', 'users.id'),
        sa.Column('picked_at', TZDateTime(), nullable=False),
        sa.UniqueConstraint('assignment_id', 'submission_id'),
    )
    op.create_index('ix_contest_picks_assignment_id', 'contest_picks', ['assignment_id'])
    op.create_index('ix_contest_picks_owner', 'contest_picks', ['owner'])


def _rubrics() -> None:
    op.create_table(
        'rubric_questions', _id(), _fk('assignment_id', 'assignments.id'),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
    )
    op.create_index('ix_rubric_questions_assignment_id', 'rubric_questions', ['assignment_id'])
    op.create_table(
        'rubric_items', _id(), _fk('question_id', 'rubric_questions.id'),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('deleted_at', TZDateTime(), nullable=True),
    )
    op.create_index('ix_rubric_items_question_id', 'rubric_items', ['question_id'])
    op.create_table(
        'rubric_applications', _id(), _fk('submission_id', 'submissions.id'), _fk('item_id', 'rubric_items.id'),
        _fk('applied_by', 'users.id', nullable=True),
        sa.Column('applied_at', TZDateTime(), nullable=False),
        sa.UniqueConstraint('submission_id', 'item_id'),
    )
    op.create_index('ix_rubric_applications_submission_id', 'rubric_applications', ['submission_id'])
    op.create_index('ix_rubric_applications_item_id', 'rubric_applications', ['item_id'])
    op.create_table(
        'rubric_marks', _id(), _fk('submission_id', 'submissions.id'), _fk('question_id', 'rubric_questions.id'),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('adjustment', sa.Float(), nullable=False),
        _fk('graded_by', 'users.id', nullable=True),
        sa.Column('graded_at', TZDateTime(), nullable=False),
        sa.UniqueConstraint('submission_id', 'question_id'),
    )
    op.create_index('ix_rubric_marks_submission_id', 'rubric_marks', ['submission_id'])
    op.create_index('ix_rubric_marks_question_id', 'rubric_marks', ['question_id'])
    op.create_table(
        'rubric_releases', _id(),
        sa.Column('assignment_id', sa.Integer(), sa.ForeignKey('assignments.id'), nullable=False, unique=True),
        sa.Column('released_at', TZDateTime(), nullable=False),
        _fk('released_by', 'users.id', nullable=True),
    )


def downgrade() -> None:
    for table in ('rubric_releases', 'rubric_marks', 'rubric_applications', 'rubric_items', 'rubric_questions',
                  'contest_picks', 'contest_reveals', 'contest_scores'):
        op.drop_table(table)
    with op.batch_alter_table('submissions') as batch:
        batch.drop_index('ix_submissions_team_id')
        batch.drop_constraint('fk_submissions_team_id', type_='foreignkey')
        batch.drop_column('void')
        batch.drop_column('team_id')
    for table in ('team_settings', 'team_invitations', 'team_memberships', 'teams'):
        op.drop_table(table)
