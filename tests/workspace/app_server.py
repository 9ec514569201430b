"""Runs the real web app under uvicorn for browser tests: `python app_server.py` with MILO_* settings.

Unlike `milo-voice serve` it loads no speech models (the workspace pages need none), so it starts in
about a second. The test starts it as a subprocess and stops it by PID.
"""

from __future__ import annotations

import os

import uvicorn

from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.web.app import create_app
from milo_voice.workspace.background import build_worker

if __name__ == "__main__":
    settings = Settings.from_env(os.environ)
    migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    app = create_app(settings, engine)
    worker = build_worker(settings, engine)  # reads upload batches (and scores) as the server does
    worker.start()
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        worker.stop()
