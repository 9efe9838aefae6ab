"""Every operation's scenarios for the scenario harness (tests/harness/scenario.py), one module per group of
operations. Each module's `SCENARIOS` (and multi's `MULTI` and `ODD`, raw_sql's `RAW`) run through every phase in
their test_op_* module, and again in test_non_superuser.py with the worker as a role without superuser."""
