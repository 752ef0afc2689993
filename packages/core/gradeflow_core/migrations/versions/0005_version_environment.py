"""assignment versions: the student environment (name and digest) their validation ran in

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assignment_versions') as batch:
        batch.add_column(sa.Column('environment_digest', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assignment_versions') as batch:
        batch.drop_column('environment_digest')
