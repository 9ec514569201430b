"""Which node takes a new call (`calls/node_choice.py`): the pure decision, on a fixed clock.

The up node with room that holds the fewest calls wins; ties go to the node asking, then by name. A
draining, full, stopped or stale node is never chosen; a node is dead (its calls written off) only after
three times the stale time, and never once it said goodbye.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from milo_voice.calls.node_choice import NodeLoad, choose, dead

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
STALE_S = 10.0


def node(name: str, live: int = 0, *, max_live: int = 4, draining: bool = False, age_s: float = 1.0,
         stopped: bool = False) -> NodeLoad:
    """A node whose last heartbeat was `age_s` seconds before NOW."""
    return NodeLoad(name=name, url=f"http://{name}:8000", stream_url=f"https://{name}.example",
                    live=live, max_live=max_live, draining=draining,
                    heartbeat_at=NOW - timedelta(seconds=age_s), stopped=stopped)


def chosen(nodes: list[NodeLoad], prefer: str = "") -> str | None:
    picked = choose(nodes, NOW, STALE_S, prefer=prefer)
    return None if picked is None else picked.name


def test_the_least_loaded_node_with_room_wins() -> None:
    nodes = [node("a", 3), node("b", 1), node("c", 2)]
    assert chosen(nodes, prefer="a") == "b"
    assert chosen(list(reversed(nodes)), prefer="c") == "b"  # the order given does not matter
    picked = choose(nodes, NOW, STALE_S, prefer="a")
    assert picked is not None and picked == nodes[1]  # the load itself, with its addresses


def test_a_less_loaded_node_beats_the_one_asking() -> None:
    assert chosen([node("me", 2), node("other", 1)], prefer="me") == "other"


def test_ties_go_to_the_node_asking_then_to_the_first_name() -> None:
    nodes = [node("c", 1), node("b", 1), node("a", 1)]
    assert chosen(nodes, prefer="b") == "b"
    assert chosen(nodes, prefer="c") == "c"
    assert chosen(nodes, prefer="elsewhere") == "a"
    assert chosen(nodes, prefer="") == "a"


def test_a_lone_node_never_forwards_while_it_has_room() -> None:
    assert chosen([node("solo", 3, max_live=4)], prefer="solo") == "solo"
    assert chosen([node("solo", 4, max_live=4)], prefer="solo") is None


@pytest.mark.parametrize(("why", "unfit"), [
    ("draining", node("a", 0, draining=True)),
    ("full", node("a", 4, max_live=4)),
    ("over full", node("a", 5, max_live=4)),
    ("no room at all", node("a", 0, max_live=0)),
    ("stopped", node("a", 0, stopped=True)),
    ("stale", node("a", 0, age_s=STALE_S)),
    ("long stale", node("a", 0, age_s=5 * STALE_S)),
])
def test_a_node_without_room_is_never_chosen(why: str, unfit: NodeLoad) -> None:
    assert not unfit.room(NOW, STALE_S), why
    fit = node("z", 3)  # more loaded, later name, not the one asking: it wins only because `a` may not
    assert chosen([unfit, fit], prefer="a") == "z", why
    assert chosen([unfit], prefer="a") is None, why


def test_a_heartbeat_just_younger_than_the_stale_time_is_up() -> None:
    fresh = node("a", age_s=STALE_S - 0.001)
    assert fresh.up(NOW, STALE_S) and fresh.room(NOW, STALE_S)
    assert not replace(fresh, heartbeat_at=NOW - timedelta(seconds=STALE_S)).up(NOW, STALE_S)
    assert chosen([fresh], prefer="b") == "a"


def test_up_and_room_differ_for_a_full_or_draining_node() -> None:
    for busy in (node("a", 4, max_live=4), node("a", draining=True)):
        assert busy.up(NOW, STALE_S) and not busy.room(NOW, STALE_S)


def test_none_when_no_node_has_room() -> None:
    nodes = [node("a", 4, max_live=4), node("b", draining=True), node("c", age_s=60.0),
             node("d", stopped=True)]
    assert choose(nodes, NOW, STALE_S, prefer="a") is None
    assert choose([], NOW, STALE_S, prefer="a") is None
    assert choose(iter([*nodes, node("e", 3)]), NOW, STALE_S, prefer="a") == node("e", 3)  # any iterable


def test_dead_only_after_three_times_the_stale_time() -> None:
    assert not dead(node("a", age_s=1.0), NOW, STALE_S)
    assert not dead(node("a", age_s=STALE_S), NOW, STALE_S)  # stale: no new calls, but its calls go on
    assert not dead(node("a", age_s=3 * STALE_S - 0.001), NOW, STALE_S)
    assert dead(node("a", age_s=3 * STALE_S), NOW, STALE_S)
    assert dead(node("a", age_s=100 * STALE_S), NOW, STALE_S)
    assert dead(node("a", age_s=30.0), NOW, 10.0) and not dead(node("a", age_s=30.0), NOW, 20.0)


def test_a_stopped_node_is_never_dead() -> None:
    for age_s in (0.0, 3 * STALE_S, 1000 * STALE_S):
        assert not dead(node("a", age_s=age_s, stopped=True), NOW, STALE_S)
