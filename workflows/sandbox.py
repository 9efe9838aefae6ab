"""The sandbox the workflows run in. The workflows' own modules are re-imported in it for every run, as
Temporal's determinism checks need; the domain core and the activities pass through as the worker loaded them.

The workflows import the core only inside `imports_passed_through`, but `from liveshift import metrics` in a
sandboxed `liveshift.workflows` module would still load `liveshift.metrics` again inside the sandbox (its
parent package is the sandbox's own), registering every Prometheus metric twice. Naming the core's modules
here passes them through however they are imported.
"""

from __future__ import annotations

import pkgutil

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import liveshift


def passed_through() -> list[str]:
    """Every module and package of the core (liveshift/), and the activities: never a workflow module."""
    core = [f"liveshift.{m.name}" for m in pkgutil.iter_modules(liveshift.__path__)]
    return [*core, "liveshift.activities"]


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*passed_through()))
