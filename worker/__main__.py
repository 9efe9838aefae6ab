"""`python -m liveshift.worker`: run a liveshift worker configured from the environment / LIVESHIFT_CONFIG."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from liveshift.worker.config import load_settings
from liveshift.worker.main import run_worker


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_worker(load_settings(), stop)


if __name__ == "__main__":
    logging.basicConfig(
        level=os.environ.get("LIVESHIFT_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(_main())
