"""Blue and green: the version schemas of views and the active version (schemas.py), the dual-write triggers
that keep both shapes current (triggers.py), and the grants that follow the tables onto the views (grants.py)."""
