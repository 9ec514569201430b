"""This node's heartbeat: every MILO_NODE_HEARTBEAT_S, in a thread, its room and drain go to the database
(`calls/cluster.py`), and what dead nodes left is written off: their places freed and their live sessions
ended as interrupted, their recordings rebuilt from the live mirror when there is one (else finished by the
dead node's own recovery when it comes back: `calls/mirror_recovery.py`).

Started by `serve` after the node's first heartbeat (so the first request already sees it), stopped at exit
with a goodbye (a stopped node is not a dead one). A failing heartbeat is logged and tried again.
"""

from __future__ import annotations

import logging
import threading

from milo_voice.calls.capacity import Capacity
from milo_voice.calls.cluster import Cluster
from milo_voice.calls.mirror_recovery import recover_from_mirror
from milo_voice.calls.session_store import SessionStore
from milo_voice.settings import Settings
from milo_voice.store.recordings import recordings_for

log = logging.getLogger(__name__)


class NodeHeartbeat:
    def __init__(self, cluster: Cluster, sessions: SessionStore, settings: Settings,
                 capacity: Capacity) -> None:
        self.cluster, self.sessions, self.settings, self.capacity = cluster, sessions, settings, capacity
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        """One heartbeat, and the write-off of dead nodes' sessions (blocking)."""
        node = self.capacity
        dead = self.cluster.heartbeat(
            url=self.settings.node_base_url, stream_url=self.settings.node_stream_base, live=node.total,
            max_live=node.max_live, draining=not node.drain.may_accept())
        for name in dead:
            ended = self.sessions.write_off(name)
            if ended:
                log.warning("cluster.sessions_written_off", extra={
                    "node": name, "sessions": ",".join(map(str, ended)),
                    "reason": "its node stopped answering"})
                threading.Thread(target=self._recover, args=(ended,), name="mirror-recovery",
                                 daemon=True).start()

    def _recover(self, session_ids: list[int]) -> None:
        """The written-off sessions' recordings from the live mirror, off the heartbeat's thread."""
        for session_id in session_ids:
            try:
                recover_from_mirror(recordings_for(self.settings), self.sessions, session_id)
            except Exception:  # one session's failure must not stop the others'
                log.exception("cluster.mirror_recovery_failed", extra={"session_id": session_id})

    def start(self) -> None:
        freed = self.cluster.starting()
        if freed:
            log.info("cluster.stale_places_freed", extra={"node": self.cluster.me, "calls": freed})
        self.beat()
        self._thread = threading.Thread(target=self._run, name="node-heartbeat", daemon=True)
        self._thread.start()
        log.info("cluster.node_up", extra={"node": self.cluster.me, "url": self.settings.node_base_url,
                                           "stream_url": self.settings.node_stream_base})

    def _run(self) -> None:
        while not self._stop.wait(self.settings.node_heartbeat_s):
            try:
                self.beat()
            except Exception:  # the database is away for a moment: the next beat tries again
                log.exception("cluster.heartbeat_failed", extra={"node": self.cluster.me})

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.cluster.goodbye()
        except Exception:
            log.exception("cluster.goodbye_failed", extra={"node": self.cluster.me})
