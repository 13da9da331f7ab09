"""indexes for the program report's ranges

The report counts a range's texts by due time and its answers by local day; at
100,000 peers and a year of history both were read by scanning the whole table
(bench/reports.py).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbound_due", "outbound_messages", ["due_at"])
    op.create_index("ix_check_in_day", "check_ins", ["local_date"])


def downgrade() -> None:
    op.drop_index("ix_check_in_day", table_name="check_ins")
    op.drop_index("ix_outbound_due", table_name="outbound_messages")
