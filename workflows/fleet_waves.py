"""The fleet workflow's pure parts: its waves from the members, and its status as the Temporal UI shows it."""

from __future__ import annotations

from liveshift.errors import SpecError
from liveshift.fleet.members import Member
from liveshift.workflows.fleet_models import FleetStatus, Waves


def plan_waves(members: list[Member], waves: Waves) -> list[list[str]]:
    """The canary wave (named keys, else the first `canary` members), then batches of `batch_size`."""
    keys = [m.key for m in members]
    if unknown := [k for k in waves.canary_keys if k not in keys]:
        raise SpecError(f"canary members {', '.join(unknown)} are not members of the fleet", field="canary_keys")
    canary = list(waves.canary_keys) or keys[: waves.canary]
    rest = [k for k in keys if k not in canary]
    batches = [rest[i : i + waves.batch_size] for i in range(0, len(rest), waves.batch_size)]
    return [canary, *batches] if canary else batches


def render(status: FleetStatus) -> str:
    """Markdown for the Temporal UI's current details: state, summary, the wave, and the members not done."""
    counts = status.summary()
    wave = min(status.wave + 1, len(status.waves))
    lines = [
        f"fleet `{status.name}` ({status.migration}): **{status.state}**, wave {wave} of {len(status.waves)}",
        ", ".join(f"{n} {state}" for state, n in counts.items()),
    ]
    if status.reason:
        lines.append(f"reason: {status.reason}")
    for m in status.members:
        if m.state in ("running", "failed", "rolled_back"):
            phase = f" ({m.phase})" if m.phase else ""
            lines.append(f"- {m.member.key}: **{m.state}**{phase}" + (f": {m.reason}" if m.reason else ""))
    return "\n".join(lines[:60])
