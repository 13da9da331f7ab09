"""answers and moods read by local day from the index alone

The program report's weekly answerers read each peer's answers in a range, and its
live mood figures a few days of 1-5 replies. The answers were found by day but read
from the table for their peer, and moods had no index by day at all, so a page read
every mood ever texted (bench/reports.py). The day indexes now carry what those
queries read.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_check_in_day", table_name="check_ins")
    op.create_index("ix_check_in_day_peer", "check_ins", ["local_date", "peer_id"])
    op.create_index("ix_mood_day", "moods", ["local_date", "peer_id", "score"])


def downgrade() -> None:
    op.drop_index("ix_mood_day", table_name="moods")
    op.drop_index("ix_check_in_day_peer", table_name="check_ins")
    op.create_index("ix_check_in_day", "check_ins", ["local_date"])
