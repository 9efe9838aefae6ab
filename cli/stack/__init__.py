"""The embedded stack: a real PostgreSQL and a real Temporal dev server, both started from wheels."""
