"""server-side web sessions (revocable, idle timeout) and the submission a student picks to count

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:30:00
"""
from alembic import op
import sqlalchemy as sa

from gradeflow_core.models import TZDateTime


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('id', sa.String(length=64), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('created_at', TZDateTime(), nullable=False),
        sa.Column('last_seen_at', TZDateTime(), nullable=False),
        sa.Column('expires_at', TZDateTime(), nullable=False),
        sa.Column('revoked_at', TZDateTime(), nullable=True),
        sa.Column('user_agent', sa.String(length=300), nullable=False),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    op.create_table(
        'submission_picks',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('assignment_id', sa.Integer(), sa.ForeignKey('assignments.id'), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('submission_id', sa.Integer(), sa.ForeignKey('submissions.id'), nullable=False),
        sa.Column('picked_at', TZDateTime(), nullable=False),
        sa.UniqueConstraint('assignment_id', 'user_id'),
    )
    op.create_index('ix_submission_picks_assignment_id', 'submission_picks', ['assignment_id'])
    op.create_index('ix_submission_picks_user_id', 'submission_picks', ['user_id'])


def downgrade() -> None:
    op.drop_table('submission_picks')
    op.drop_table('web_sessions')
