"""liveshift: zero-downtime schema migrations for live PostgreSQL (the domain core, no Temporal here)."""

INTERNAL_SCHEMA = "liveshift"
