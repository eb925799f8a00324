"""The tables: schools, returns and their versions, values in long form, leads, queries, drafts
and the audit trail.

Written in SQLAlchemy Core so the same definitions create the SQLite file and the PostgreSQL
schema. Timestamps are naive UTC (the same on both databases); dates are dates.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

schools = sa.Table(
    "schools",
    metadata,
    sa.Column("urn", sa.String(6), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),  # from the first return; rename_school changes it
    sa.Column("phase", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

returns = sa.Table(
    "returns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("urn", sa.String(6), sa.ForeignKey("schools.urn"), nullable=False),
    sa.Column("academic_year", sa.String(7), nullable=False),
    sa.Column("term", sa.String(6), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="submitted"),
    sa.Column("submitted_by", sa.Text, nullable=False),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),  # the original file, as uploaded
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("date_completed", sa.Date, nullable=True),
    sa.UniqueConstraint("urn", "academic_year", "term", "version", name="uq_returns_version"),
)
sa.Index("ix_returns_term", returns.c.academic_year, returns.c.term, returns.c.urn)

# One row per measure id of the contract for every return, NULL in both value columns when the
# cell was blank: a missing row would be ambiguous, a 0 would be a lie.
return_values = sa.Table(
    "return_values",
    metadata,
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("urn", sa.String(6), nullable=False),
    sa.Column("academic_year", sa.String(7), nullable=False),
    sa.Column("term", sa.String(6), nullable=False),
    sa.Column("measure_id", sa.String(80), nullable=False),
    sa.Column("value_num", sa.Float, nullable=True),  # counts and integers
    sa.Column("value_text", sa.Text, nullable=True),  # text, and dates/URN/year/term as ISO text
    sa.PrimaryKeyConstraint("return_id", "measure_id", name="pk_return_values"),
    # On SQLite the rows live in their primary key's order: one B-tree fewer to write per save.
    sqlite_with_rowid=False,
)
sa.Index("ix_values_term", return_values.c.academic_year, return_values.c.term, return_values.c.measure_id)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("last_full_training", sa.Date, nullable=True),
    sa.Column("last_refresher", sa.Date, nullable=True),
)

return_queries = sa.Table(
    "return_queries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("key", sa.Text, nullable=False),  # Problem.key, what explanations are typed against
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("sheet", sa.Text, nullable=True),
    sa.Column("cell", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("explanation", sa.Text, nullable=True),
)

# Every upload attempt (refused ones included) and every change. Never holds a file's bytes.
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),  # upload, import, rename_school, ...
    sa.Column("outcome", sa.Text, nullable=False),  # accepted, rejected, refused, failed, done
    sa.Column("urn", sa.Text, nullable=True),
    sa.Column("academic_year", sa.Text, nullable=True),
    sa.Column("term", sa.Text, nullable=True),
    sa.Column("file_name", sa.Text, nullable=True),
    sa.Column("sha256", sa.Text, nullable=True),
    sa.Column("size", sa.Integer, nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Column("source", sa.Text, nullable=True),  # web, command line, sample
)
sa.Index("ix_audit_at", audit.c.at)

drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("urn", sa.Text, nullable=False),
    sa.Column("academic_year", sa.Text, nullable=False),
    sa.Column("term", sa.Text, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("report_json", sa.JSON, nullable=True),
    sa.Column("explanations_json", sa.JSON, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user", "urn", "academic_year", "term", name="uq_drafts_school_term"),
)

# The gap rules' thresholds the trust has changed from the defaults (declared in analysis); a
# threshold with no row here is at its default. Every change is also an audit row.
thresholds = sa.Table(
    "thresholds",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime, nullable=False),
)

# People who may sign in. The email is the key, always lower-cased. A removed user is kept,
# disabled, so the audit trail's names still lead somewhere; single sign-on users have no hash.
users = sa.Table(
    "users",
    metadata,
    sa.Column("email", sa.String(254), primary_key=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("role", sa.String(16), nullable=False),  # trust_leader, trustee, dsl
    sa.Column("password_hash", sa.Text, nullable=True),  # scrypt$n$r$p$salt$hash, never the password
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    # A trust leader's weekly digest email: on unless they turn it off on their My account page.
    sa.Column("weekly_digest", sa.Boolean, nullable=False, server_default=sa.true()),
)

# The schools a DSL holds (one or several). No foreign key to schools: a DSL is often set up
# before their school's first return has been stored.
user_schools = sa.Table(
    "user_schools",
    metadata,
    sa.Column("email", sa.String(254), sa.ForeignKey("users.email", ondelete="CASCADE"), nullable=False),
    sa.Column("urn", sa.String(6), nullable=False),
    sa.PrimaryKeyConstraint("email", "urn", name="pk_user_schools"),
)

# Every sign-in attempt, for rate limiting. ``refused`` attempts were turned away unchecked
# (too many failures) and do not extend the lock; the audit keeps the lasting record.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("source", sa.Text, nullable=True),  # the address the attempt came from, when known
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()),
)
sa.Index("ix_login_attempts_email", login_attempts.c.email, login_attempts.c.at)
sa.Index("ix_login_attempts_source", login_attempts.c.source, login_attempts.c.at)
sa.Index("ix_login_attempts_at", login_attempts.c.at)

# A browser's sign-in with a local password: the session cookie carries a random token, and only
# its SHA-256 is kept here, so a copy of the database signs nobody in. A session ends when its
# person signs out, after SESSION_IDLE_HOURS unused, or when they are removed or given a new
# password; ended rows are kept a while for the sign-in limits (where an account has signed in
# from before), then deleted.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(254), sa.ForeignKey("users.email", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("ended_at", sa.DateTime, nullable=True),
    sa.Column("ended_why", sa.String(16), nullable=True),  # signed out, idle, removed, new password
    sa.Column("source", sa.Text, nullable=True),  # the address signed in from, when known
)
sa.Index("ix_sessions_email", sessions.c.email, sessions.c.source)
sa.Index("ix_sessions_last_seen", sessions.c.last_seen_at)

# The board's challenge log: a question the board asked about a gap, the answer, the action and
# who owns it, kept from term to term until closed. The gap is named by its school, theme, rule
# and measure, and the term it was raised in; its finding is kept as the board saw it. Every
# change is also an audit row.
challenges = sa.Table(
    "challenges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("urn", sa.String(6), sa.ForeignKey("schools.urn"), nullable=False),
    sa.Column("theme", sa.String(32), nullable=False),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("indicator", sa.String(80), nullable=False, server_default=""),
    sa.Column("academic_year", sa.String(7), nullable=False),  # the term the question was raised in
    sa.Column("term", sa.String(6), nullable=False),
    sa.Column("finding", sa.Text, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("asked_by", sa.Text, nullable=False),
    sa.Column("meeting_date", sa.Date, nullable=False),
    sa.Column("answer", sa.Text, nullable=True),
    sa.Column("answered_by", sa.Text, nullable=True),
    sa.Column("answered_at", sa.DateTime, nullable=True),  # when the answer was last given or changed
    sa.Column("action", sa.Text, nullable=True),
    sa.Column("owner", sa.Text, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("status", sa.String(8), nullable=False, server_default="open"),  # open, answered, closed
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime, nullable=True),
)
sa.Index("ix_challenges_school", challenges.c.urn, challenges.c.theme)

# Emails to send: the transactional outbox. A row is written in the same transaction as the change
# that causes the email (a return stored, a question raised, a pack made), or by `python -m store
# notify` for what falls due by date, so an email is never lost and never sent for a change that
# was rolled back. ``dedupe`` names the email (its kind, what it is about, its recipient): the
# same email is never queued twice. A row is claimed (status sending, with a claim token) before
# it is sent, so two senders never send the same one. Bodies hold no count of children, no child's
# details and no finding: what happened and a link to the dashboard.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("dedupe", sa.String(300), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("urn", sa.String(6), nullable=True),  # the school the email is about, when it is about one
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="queued"),  # queued, sending, sent, failed
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_failed_at", sa.DateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("claim", sa.String(32), nullable=True),
    sa.Column("claimed_at", sa.DateTime, nullable=True),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("dedupe", name="uq_outbox_dedupe"),
)
sa.Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)
sa.Index("ix_outbox_urn", outbox.c.urn)

# The store's generation: one row (made by the first write), a number that every write changing
# what the pages show moves on by one, in that write's own transaction (store.db.writing). The
# dashboard's cached views are made for one generation and released when it moves (ui/views.py).
store_generation = sa.Table(
    "store_generation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
)
