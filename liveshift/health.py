"""Health checks that gate progressive traffic shifting: a PromQL expression or a SQL query.

A check is evaluated once per call; the caller (the workflow, through an activity) decides how often.
Prometheus: healthy while the instant query returns a non-empty result whose samples are all non-zero
(the convention of Flagger/Argo analysis: an expression like `rate(errors[1m]) < 0.01` returns nothing
when unhealthy). SQL: healthy while the query's first column of its first row is true.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Literal

import psycopg
from psycopg import sql
from pydantic import BaseModel, Field, model_validator


class HealthCheck(BaseModel):
    kind: Literal["prometheus", "sql"]
    query: str = Field(min_length=1, description="PromQL expression, or SQL returning one boolean")
    prometheus_url: str | None = Field(None, description="base URL of the Prometheus server (kind prometheus)")
    timeout_s: float = Field(5.0, gt=0, description="a check that takes longer counts as unhealthy")

    @model_validator(mode="after")
    def _url_for_prometheus(self) -> HealthCheck:
        if self.kind == "prometheus" and not self.prometheus_url:
            raise ValueError("a prometheus health check needs prometheus_url")
        return self


class HealthResult(BaseModel):
    healthy: bool
    value: str = Field(description="what the check returned, for status and the UI")


def _sample_values(payload: dict) -> list[float]:
    data = payload.get("data", {})
    result = data.get("result")
    if data.get("resultType") == "scalar":
        return [float(result[1])]
    return [float(sample["value"][1]) for sample in result or []]


def check_prometheus(check: HealthCheck) -> HealthResult:
    assert check.prometheus_url is not None
    url = f"{check.prometheus_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': check.query})}"
    try:
        with urllib.request.urlopen(url, timeout=check.timeout_s) as response:
            payload = json.load(response)
    except urllib.error.HTTPError as exc:  # a bad expression: Prometheus answers 400 with its reason
        payload = json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        return HealthResult(healthy=False, value=f"prometheus unreachable: {exc}")
    if payload.get("status") != "success":
        return HealthResult(healthy=False, value=f"prometheus error: {payload.get('error', payload)}")
    values = _sample_values(payload)
    if not values:
        return HealthResult(healthy=False, value="empty result")
    healthy = all(v != 0 and not math.isnan(v) for v in values)
    return HealthResult(healthy=healthy, value=", ".join(f"{v:g}" for v in values))


def check_sql(conn: psycopg.Connection, check: HealthCheck) -> HealthResult:
    """Run the query read-only under a statement timeout; an error is unhealthy, with its message."""
    timeout = sql.Literal(f"{int(check.timeout_s * 1000)}ms")
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(timeout))
            row = conn.execute(sql.SQL(check.query)).fetchone()  # type: ignore[arg-type]  # the operator's SQL
    except psycopg.Error as exc:
        return HealthResult(healthy=False, value=f"error: {str(exc).strip().splitlines()[0]}")
    value = None if row is None else row[0]
    return HealthResult(healthy=value is True, value=repr(value))
