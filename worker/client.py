"""Connecting to Temporal with the worker's settings; shared by the worker and the CLI."""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, TLSConfig

from liveshift.worker.config import Settings
from liveshift.workflows.models import SEARCH_ATTRIBUTES

log = logging.getLogger(__name__)


def _tls(settings: Settings) -> TLSConfig | bool:
    t = settings.temporal
    if t.tls_cert or t.tls_key or t.tls_ca:
        return TLSConfig(
            client_cert=t.tls_cert.read_bytes() if t.tls_cert else None,
            client_private_key=t.tls_key.read_bytes() if t.tls_key else None,
            server_root_ca_cert=t.tls_ca.read_bytes() if t.tls_ca else None,
        )
    return t.api_key is not None  # an API key (Temporal Cloud) implies TLS


def sdk_runtime(settings: Settings) -> Runtime | None:
    """A Runtime exporting the Temporal SDK's own metrics on Prometheus, if a port is configured.

    One per process: create it once and hand it to every client that should report through it.
    """
    if settings.sdk_metrics_port is None:
        return None
    bind = f"{settings.metrics_host}:{settings.sdk_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind)))


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    t = settings.temporal
    return await Client.connect(
        t.address,
        namespace=t.namespace,
        data_converter=pydantic_data_converter,
        tls=_tls(settings),
        api_key=t.api_key.get_secret_value() if t.api_key else None,
        runtime=runtime,
    )


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register liveshift's custom search attributes where missing (needs the operator API)."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes) | set(existing.system_attributes)
        missing = {
            key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
            for key in SEARCH_ATTRIBUTES
            if key.name not in known
        }
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
            log.info("registered search attributes %s", ", ".join(sorted(missing)))
    except RPCError as exc:  # e.g. Temporal Cloud: register them in the namespace settings instead
        log.warning(
            "could not check or register search attributes %s: %s",
            ", ".join(k.name for k in SEARCH_ATTRIBUTES),
            exc.message,
        )
