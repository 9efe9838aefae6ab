"""Every `workflow.patched` id MigrationWorkflow asks, in one place: what each changed, where its legacy branches
are, and which recorded histories (tests/histories) pin it.

A patch id is written into history (a marker) the first time a run takes the new branch; a history recorded
before the change has no marker and replays through the legacy branch. So an id's string never changes, and a
legacy branch goes only once no running workflow (and no recorded history) needs it: then `deprecate_patch`
first, and remove the id a release later. A history that never reached the patched call pins neither branch.
"""

from __future__ import annotations

CANCEL_ROLLS_BACK = "cancel-rolls-back"
"""A Temporal cancellation becomes a rollback request, honoured where an operator's is (between phases, in
backfill, at the gates); before contract the database goes back and the workflow ends cancelled.

Legacy (no marker): the cancellation reached the phase in flight (the phases task is cancelled).
Legacy branch: MigrationWorkflow.run (workflows/migration.py).
Histories: add_column_cancelled_before_cancel_rolled_back (legacy); add_column_cancelled_in_backfill and
add_column_cancel_ignored_in_contract (marker).
"""

PROGRESS_IN_HEARTBEATS = "progress-in-heartbeats"
"""Backfill partitions report their progress in their heartbeat details, not by signal (a signal every progress
interval made the history grow with the backfill's duration), and the workflow records each partition's result as
it finishes.

Legacy (no marker): partitions start with `signal_progress=True` and signal PROGRESS; results are held only once
every partition is done.
Legacy branches: MigrationWorkflow._backfill (asks the patch; no per-partition done callback),
MigrationWorkflow._start_partition (`signal_progress`), and the PROGRESS signal handler MigrationWorkflow.on_progress,
which only legacy partitions call (all in workflows/migration.py).
Histories: add_column_progress_in_heartbeats (marker); every other MigrationWorkflow history reaches backfill
without the marker (legacy), e.g. add_column_worker_killed, pk_bigint_worker_killed.
"""

FULL_SHARE_BEFORE_CONTRACT = "full-share-before-contract"
"""Contract needs 100% of clients on green: below 100% the contract gate waits for 100% (an approval below it is
refused or ignored, a soak counts from 100%). Asked only when the contract gate opens below 100%.

Legacy (no marker): a canary share contracted after its soak, or on approval at any share.
Legacy branches: ShareControl.contract_gate (workflows/shifting.py: one plain gate, then contract), which sets
`MigrationState.legacy_contract`; MigrationWorkflow.approve_signal (workflows/migration.py) then accepts an
approval at any share.
Histories: add_column_canary_soak_before_full_share and add_column_canary_approved_before_full_share (legacy);
add_column_operator_shifts and add_column_canary_unhealthy_wait (marker).
"""

CONTRACT_TRIED_FIRST = "contract-tried-first"
"""Before contract begins, its statements are tried in a transaction that is rolled back (the try_contract
activity): where they would fail for good (ContractRefused), the migration stays at the contract gate with the
error, its approval withdrawn, and rollback still possible; the operator fixes the cause and approves again.

Legacy (no marker): contract began at once, and such a failure ended the migration `failed`, half contracted.
Legacy branch: MigrationWorkflow._until_contract (workflows/migration.py).
Histories: add_column_contract_refused_then_approved (marker); every other history that reached contract, e.g.
add_column_auto_cutover (legacy).
"""

DRAIN_BEFORE_DROP = "drain-before-drop"
"""A version's views are dropped only once its clients have drained: contract waits `drain_seconds` after the
share change that took blue's last clients (so a soak is never shorter than the drain), and a rollback after
cutover first sends everyone to blue (a share of 0%, recorded as by "rollback"), then waits the drain, then drops
green's views. The status shows the drain (`draining`, `drain_until`).

Legacy (no marker): contract right after its gate; rollback set the flag back and dropped green's views at once.
Legacy branches: MigrationWorkflow._phases and MigrationWorkflow._roll_back (workflows/migration.py).
Histories: every history recorded before it that reached contract or rolled back after cutover (legacy), e.g.
add_column_operator_shifts, add_column_canary_sql_rollback; add_column_drained_before_drop (marker).
"""

DRAIN_AFTER_UNCONFIRMED_CUTOVER = "drain-after-unconfirmed-cutover"
"""A rollback that arrives while the cutover activity waits to retry (it may have committed, and clients may have
followed the flag to green, though its answer was lost) is treated as a rollback after cutover: a share of 0%
first, the drain, then green's views dropped.

Legacy (no marker): such a rollback skipped the share change and the drain, as before any cutover.
Legacy branch: MigrationWorkflow._roll_back (workflows/migration.py).
Histories: add_column_rollback_during_cutover_retry (marker); every other history (the branch is not reached).
"""

REHEARSE_FIRST = "rehearse-first"
"""`start --rehearse` (MigrationOptions.rehearse): before prepare, the `rehearse` activity runs the whole migration
on a scratch clone of the target (liveshift/rehearsal/); a failed rehearsal ends the migration failed before
anything touched the real tables, its report in the status (`rehearsal`). Asked only when the option is set, which
no workflow started before it had.

Legacy (no marker): no rehearsal; a history recorded before the option cannot have it set.
Legacy branch: none (MigrationWorkflow._until_contract asks the patch only for a rehearsing run).
Histories: add_column_rehearsed (marker).
"""

MEMBER_PHASES = "member-phases"
"""A fleet member's migration (MigrationInput.member set, started as a child of FleetWorkflow) signals MEMBER_PHASE
to its fleet on each phase it enters: the fleet's status shows every member's phase, and a one-flip fleet approves
the members' gates once all of them wait there. Asked only when `member` is set, which no workflow before fleets
had. (Activity targets naming a member's database, `target@database`, change no command: no patch.)

Legacy (no marker): no report.
Legacy branch: none (PhaseRunner._report_to_fleet, workflows/running.py, asks the patch only for a member).
Histories: fleet_member_reports_phases (marker: a member of the one-flip fleet of fleet_one_flip).
"""
