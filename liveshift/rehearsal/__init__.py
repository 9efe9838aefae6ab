"""The rehearsal: the whole migration run on a scratch database cloned from the target (its schema, dependent
objects and grants, a sample of its rows), before anything touches the real tables.

- scratch: where the scratch database comes from (a configured scratch target, or one the target's role creates),
  and that it is dropped afterwards, also on failure and when interrupted;
- clone: the target's schema (pg_dump/pg_restore) and a sample of its rows into it;
- run: every phase forward through contract, and rollback from each phase before contract, each reported;
- queries: the application's recorded statements (pg_stat_statements) compiled under blue and under green;
- report: what the rehearsal found, as plain values (they cross the Temporal boundary) and as text.
"""
