"""submission priority: the Redis priority list it was sent to (fair share among students)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('priority', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('priority')
