"""Fleets: one schema in many databases or schemas. members.py names them; drift.py reports their versions and
whether each one's catalog still matches what its last migration recorded. No Temporal imports."""
