"""What the tests share. Test modules import from here (and from the code under test), never from one another
or from tests/conftest.py, whose fixtures hand out the types defined here (tests/unit/test_layout_tests.py).

- postgres: the session's server, a fresh database per test, login roles (created by the superuser);
- temporal: the Temporal server, in-process and subprocess workers, waiting on a phase, recording histories;
- db: application clients, migrations, catalog snapshots, the phases run directly, the backfill's progress;
- scenario: the scenario harness every operation's tests share (`Scenario`, `Run`); operations/: the
  scenarios themselves, which test_op_* run and test_non_superuser.py runs again without superuser;
- apps: `users` with blue and green applications writing through the add_column workflow tests run;
- client_app: a running application on liveshift.client, for the client's tests;
- chaos: the accounts and ledger workload, and the waits, of the chaos, fault and replication tests;
- zero_stall: watching pg_locks for lock queues while steps run against old transactions;
- fake_activities: the workflow against faked activities, no PostgreSQL;
- cli: `liveshift …` in subprocesses, and `liveshift dev`'s whole stack;
- catalogs: hand-built catalogs and migrations for the planner's unit tests;
- proxy, prometheus, squawk_agreement: a TCP proxy that cuts connections, a real Prometheus, squawk's verdicts.
- pg_truth: what PostgreSQL really locks, rewrites and scans for one statement (lint's facts are held to it).
"""
