"""each goal's habit strength at the end of a final day

The program report's habit strength summed 180 days of answers for every goal on
each build (about 2 s of a page at 100,000 peers on PostgreSQL, bench/reports.py);
the roll-up now keeps each goal's strength at the last day rolled up and at each
month's end, and a page adds only the days after it.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "habit_strengths",
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("strength", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("local_date", "goal_id", name=op.f("pk_habit_strengths")),
    )


def downgrade() -> None:
    op.drop_table("habit_strengths")
