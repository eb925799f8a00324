"""Sessions for signing in: one row per browser signed in with a local password, keyed by the
SHA-256 of the random token its cookie carries (never the token itself).

A new table only: nothing existing is changed, so every row of every other table stays as it was.
Nobody is signed in straight after the upgrade; people sign in once more.

Revision 0002, after 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_why", sa.String(length=16), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["email"], ["users.email"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_sessions_email", "sessions", ["email", "source"], unique=False)
    op.create_index("ix_sessions_last_seen", "sessions", ["last_seen_at"], unique=False)


def downgrade() -> None:
    # Upgrades go forward only: a trust goes back by restoring the backup taken before the upgrade.
    raise NotImplementedError("restore the backup taken before this upgrade instead")
