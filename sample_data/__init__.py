"""A made-up multi-academy trust's termly safeguarding returns, the seeded generator that makes
them, and England's benchmark figures with their sources."""
