"""The DDL: every statement a plan contains (statements.py, each a Step with its lock and guard) and the safe
executor that runs them without letting an application queue behind a lock (executor.py, locks, blockers)."""
