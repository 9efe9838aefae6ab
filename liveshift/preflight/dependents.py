"""Refuse at plan a dependent the worker's role could not carry through contract (carry.py).

Taking an object off and building it again (or planning a function's body or a policy's expressions again)
needs its owner's rights, and giving the rebuilt object back to its owner needs membership in that role:
a role that lacks them would fail at contract, in its irreversible phase, so it is refused before expand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from liveshift.errors import SpecError

if TYPE_CHECKING:
    from liveshift.plan import MigrationPlan


def check_owners(conn: psycopg.Connection, plan: MigrationPlan, file: str | None = None) -> None:
    """SpecError naming the first dependent whose owner the connected role may not act as."""
    acted = [c for c in plan.carried if c.steps_needed]
    owners = sorted({c.dependent.owner for c in acted})
    if not owners:
        return
    rows = conn.execute(
        "SELECT o, pg_has_role(current_user, o, 'MEMBER'), current_user::text FROM unnest(%s::text[]) o",
        (owners,),
    ).fetchall()
    refused = {owner: user for owner, member, user in rows if not member}
    for carried in acted:
        user = refused.get(carried.dependent.owner)
        if user is None:
            continue
        removal = next((r for r in plan.removals if r.table in carried.tables), None)
        raise SpecError(
            f"{carried.dependent.key} must be taken off and built again at contract ({carried.because}), but role "
            f"{user} is not a member of its owner {carried.dependent.owner}: run the worker as that owner (or a "
            "member of it), or drop the object before this migration",
            file=file,
            index=removal.op_index if removal else None,
            op=removal.op if removal else None,
            field="column",
        )
