"""`milo-voice serve`: migrate, recover, seed the demo, print the candidate link (warning when candidates
cannot open it: `workspace.public_url`), run uvicorn."""

from __future__ import annotations

import logging
from collections.abc import Callable

from milo_voice.calls.cluster import Cluster
from milo_voice.calls.engines import LazyRuntime, load_runtime
from milo_voice.calls.heartbeat import NodeHeartbeat
from milo_voice.calls.phone.call import prerender_notice
from milo_voice.calls.recovery import recover_sessions
from milo_voice.calls.session_store import SessionStore
from milo_voice.outreach.compose import worker_from
from milo_voice.outreach.worker import OutreachWorker
from milo_voice.scoring.queue import backend_for
from milo_voice.scoring.rounds_pg import ProcrastinateRounds, Round
from milo_voice.settings import Settings
from milo_voice.store.db import create_engine, migrate
from milo_voice.store.recordings import recordings_for
from milo_voice.web import drain_server
from milo_voice.web.app import create_app
from milo_voice.web.operations import capacity
from milo_voice.web.phone import log_webhook_posture
from milo_voice.workspace import public_url
from milo_voice.workspace.background import build_worker
from milo_voice.workspace.candidates import Candidates
from milo_voice.workspace.demo import Demo
from milo_voice.workspace.retention_sweep import RetentionSweep
from milo_voice.workspace.retention_worker import RetentionWorker
from milo_voice.workspace.sms_stage import SmsStages

log = logging.getLogger(__name__)


def warn_if_links_unreachable(settings: Settings) -> bool:
    """Log a warning when candidates cannot open the links this server prints; True if it did."""
    warning = public_url.warning(settings)
    if warning:
        log.warning("serve.public_url_unreachable", extra={"base_url": settings.base_url, "warning": warning})
    return bool(warning)


def start_rounds(
    settings: Settings, outreach: OutreachWorker | None, sweep: Callable[[], object]
) -> Callable[[], None]:
    """Start the outreach round (plan, then send what is due) and the retention sweep; returns what stops
    them. On Procrastinate they are periodic tasks, each period's round run once across every node
    (`scoring.rounds_pg`); on the embedded table, threads of this process. Hand-overs a crash left open
    are settled first, by this node, either way. Windows come from Settings > Retention (none: keep all)."""
    if outreach is not None:
        print(f"milo-voice: candidate outreach on ({', '.join(sorted(outreach.channels))}); "
              f"{outreach.settle_at_start()} interrupted hand-over(s) settled")
    else:
        print("milo-voice: candidate outreach off (set MILO_SMTP_HOST and/or MILO_SMS_FROM: "
              "docs/outreach.md)")
    if backend_for(settings) == "procrastinate":
        rounds = [Round("retention", sweep, settings.retention_interval_s)]
        if outreach is not None:
            rounds.append(Round("outreach", outreach.run_once, settings.outreach_tick))
        worker = ProcrastinateRounds(rounds, settings.database_url, name=f"milo-rounds-{settings.node}")
        worker.start()
        names = ", ".join(r.name for r in rounds)
        print(f"milo-voice: {names} rounds on procrastinate (each period once across the nodes)")

        def stop_periodic() -> None:
            worker.stop()
            if outreach is not None:
                outreach.stop()  # closes the channels' connections

        return stop_periodic
    if outreach is not None:
        outreach.start(settle=False)
    retention = RetentionWorker(sweep, interval=settings.retention_interval_s)
    retention.start()

    def stop_threads() -> None:
        if outreach is not None:
            outreach.stop()
        retention.stop()

    return stop_threads


def serve(settings: Settings) -> int:
    migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    for line in recover_sessions(SessionStore(engine), settings):  # and uploads what is left (storage.md)
        print(line)
    _, candidate = Demo(engine).seed()
    print(f"milo-voice: demo interview ready. Candidate link: {settings.base_url}/i/{candidate.token}")
    warn_if_links_unreachable(settings)
    log_webhook_posture(settings, engine)
    loaded = load_runtime(settings)  # fail fast, naming a missing model package
    prerender_notice(settings, loaded)  # what every phone call hears first, ready before the first call
    runtime = LazyRuntime(settings, loaded)
    app = create_app(settings, engine, runtime)
    scoring = build_worker(settings, engine)
    requeued = scoring.start()  # jobs a crash left running (a dead worker's, on Procrastinate) run again
    print(f"milo-voice: background jobs on {backend_for(settings)} (MILO_JOB_QUEUE; docs/deploy.md)")
    if requeued:
        print(f"milo-voice: {len(requeued)} background job(s) from before the restart queued again")
    candidates = Candidates(engine)
    app.state.cluster = Cluster(engine, me=settings.node, stale_s=settings.node_stale_s)
    outreach = worker_from(settings, engine, link_open=lambda cid: candidates.link_state(cid).open,
                           before_plan=SmsStages(engine, settings).round, node_gone=app.state.cluster.gone)
    sweep = RetentionSweep(engine, SessionStore(engine), recordings=recordings_for(settings))  # + the store
    stop_rounds = start_rounds(settings, outreach, sweep.run)
    print(f"milo-voice: recruiter workspace at {settings.base_url}/app "
          "(first admin: milo-voice users create)")
    heartbeat = NodeHeartbeat(app.state.cluster, SessionStore(engine), settings, capacity(app))
    heartbeat.start()  # this node takes calls from the other nodes' routing from now on
    print(f"milo-voice: node {settings.node} ({settings.node_base_url}); calls go to the node with the most "
          "room (docs/deploy.md, Several nodes)")
    try:
        drain_server.run(app, capacity(app), host=settings.host, port=settings.port)  # SIGTERM drains
    finally:
        stop_rounds()  # before the goodbye: the other nodes settle a gone node's hand-overs
        heartbeat.stop()
        scoring.stop()
        runtime.close()
    return 0
