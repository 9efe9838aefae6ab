"""The checkpointed backfill: partitions of a table (partitions.py) walked batch by batch (walk.py) by key
ranges (keyset.py) or block ranges (blocks.py), held for the replicas (replication.py)."""
