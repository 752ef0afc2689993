"""activation log: which version was official from when, who made it so, and why

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:40:00
"""
from alembic import op
import sqlalchemy as sa
import gradeflow_core.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('version_activations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('previous_version_id', sa.Integer(), nullable=True),
    sa.Column('regrade_run_id', sa.Integer(), nullable=True),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.Column('activated_by', sa.Integer(), nullable=True),
    sa.Column('activated_at', gradeflow_core.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activated_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
    sa.ForeignKeyConstraint(['previous_version_id'], ['assignment_versions.id'], ),
    sa.ForeignKeyConstraint(['regrade_run_id'], ['regrade_runs.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['assignment_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_version_activations_assignment_id'), 'version_activations', ['assignment_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_version_activations_assignment_id'), table_name='version_activations')
    op.drop_table('version_activations')
