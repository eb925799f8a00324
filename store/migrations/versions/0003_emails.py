"""Emails: the outbox that holds every email to send (written in the same transaction as the change
that causes it), each trust leader's choice of the weekly digest, and when a board question was
answered.

New: the ``outbox`` table; ``users.weekly_digest`` (on for everyone already there); and
``challenges.answered_at``, empty for questions answered before this revision (their answer and
who gave it are kept as they were; only the day was never recorded). No existing row changes.

Revision 0003, after 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe", sa.String(length=300), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("urn", sa.String(length=6), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="queued", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_failed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe", name="uq_outbox_dedupe"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_outbox_urn", "outbox", ["urn"], unique=False)
    with op.batch_alter_table("challenges") as batch:
        batch.add_column(sa.Column("answered_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("weekly_digest", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    # Upgrades go forward only: a trust goes back by restoring the backup taken before the upgrade.
    raise NotImplementedError("restore the backup taken before this upgrade instead")
