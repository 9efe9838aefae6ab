"""What liveshift keeps in the target database: the internal schema (schema.py), each migration's record
(record.py), the backfill's checkpoints (checkpoints.py) and a migrations directory's history (history.py)."""
