"""The database: schools, returns and their versions with the original files, drafts, and the
audit trail of every upload and change. SQLite by default, PostgreSQL by DATABASE_URL."""
