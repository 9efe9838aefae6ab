"""The embedded Temporal dev server (`liveshift demo`, `liveshift dev`, the bench) picks its own ports. One lost to
another process between the pick and the server's bind costs another pick, not the start."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from liveshift.cli.stack import temporal
from liveshift.cli.stack.postgres import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_a_port_taken_before_the_server_binds_it_is_picked_again(tmp_path: Path, monkeypatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        picks = iter([taken])  # the first pick: a port another process binds before the server does
        monkeypatch.setattr(temporal, "free_port", lambda: next(picks, 0) or free_port())
        monkeypatch.setattr(temporal, "port_is_free", lambda port, host="127.0.0.1": True)  # free when checked
        server = temporal.TemporalDevServer(tmp_path / "temporal", headless=True)
        try:
            server.start()
            assert server.is_running() and server.port != taken
            assert b"address already in use" in server.log_file.read_bytes()
        finally:
            server.stop()


def test_ports_the_caller_gave_are_not_changed(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        server = temporal.TemporalDevServer(tmp_path / "temporal", port=taken, headless=True)
        with pytest.raises(temporal.PortTaken, match=str(taken)):
            server.start()
