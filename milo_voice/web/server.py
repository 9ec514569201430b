"""`milo-voice serve`: migrate, recover, seed the demo, print the candidate link, run uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from milo_voice.db import create_engine, migrate
from milo_voice.engines import LazyRuntime, load_runtime
from milo_voice.recovery import recover_sessions
from milo_voice.settings import Settings
from milo_voice.store import Store
from milo_voice.web.app import create_app

log = logging.getLogger(__name__)


def serve(settings: Settings) -> int:
    migrate(settings.database_url)
    store = Store(create_engine(settings.database_url))
    for line in recover_sessions(store):
        print(line)
    _, candidate = store.seed_demo()
    print(f"milo-voice: demo interview ready. Candidate link: {settings.base_url}/i/{candidate.token}")
    runtime = LazyRuntime(settings, load_runtime(settings))  # fail fast, naming a missing model package
    app = create_app(settings, store, runtime)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
