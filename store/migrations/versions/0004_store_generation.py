"""The store's generation: one row holding a number that every write which changes what the pages
show (returns, schools, thresholds, users, board questions, deletions, restores) moves on, in the
write's own transaction. The dashboard keeps one set of cached views per database, made for one
generation, and lets them go when it moves.

A new table, empty until the first such write makes its one row (no row reads as generation 0):
nothing existing is changed, so every row of every other table stays as it was.

Revision 0004, after 0003.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    # Upgrades go forward only: a trust goes back by restoring the backup taken before the upgrade.
    raise NotImplementedError("restore the backup taken before this upgrade instead")
