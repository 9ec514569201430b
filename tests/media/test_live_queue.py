"""The live queue: slots, order by urgency then arrival (asked again when a slot frees), and a waiter
that gives up (its call ended) neither takes nor leaks a slot."""

from __future__ import annotations

import asyncio

import pytest

from milo_voice.media.live_queue import LiveQueue, Urgency


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_no_more_holders_than_slots_and_the_most_urgent_waiter_goes_first() -> None:
    queue = LiveQueue(2)
    order: list[str] = []

    async def run() -> None:
        go = asyncio.Event()
        urgency = {"late": Urgency.SPEAKING, "pause": Urgency.IN_PAUSE, "speaking": Urgency.SPEAKING}

        async def hold(name: str) -> None:
            async with queue.turn(lambda: urgency.get(name, Urgency.IN_PAUSE)):
                order.append(name)
                assert queue.busy <= 2
                await go.wait()

        holders = [asyncio.ensure_future(hold(n)) for n in ("a", "b")]
        await _settle()
        waiters = [asyncio.ensure_future(hold(n)) for n in ("speaking", "late", "pause")]
        await _settle()
        assert order == ["a", "b"] and queue.waiting == 3
        urgency["late"] = Urgency.WAITED_FOR  # that candidate's turn ended while waiting
        go.set()
        await asyncio.gather(*holders, *waiters)

    asyncio.run(run())
    assert order == ["a", "b", "late", "pause", "speaking"]
    assert queue.busy == 0 and queue.waiting == 0


def test_a_waiter_cancelled_before_its_turn_leaves_no_slot_taken() -> None:
    queue = LiveQueue(1)
    served: list[str] = []

    async def run() -> None:
        go = asyncio.Event()

        async def hold(name: str) -> None:
            async with queue.turn(lambda: Urgency.IN_PAUSE):
                served.append(name)
                await go.wait()

        first = asyncio.ensure_future(hold("first"))
        await _settle()
        gone, kept = asyncio.ensure_future(hold("gone")), asyncio.ensure_future(hold("kept"))
        await _settle()
        gone.cancel()
        await _settle()
        assert queue.waiting == 1
        go.set()
        await asyncio.wait_for(asyncio.gather(first, kept), 5)
        with pytest.raises(asyncio.CancelledError):
            await gone

    asyncio.run(run())
    assert served == ["first", "kept"] and queue.busy == 0


def test_a_waiter_cancelled_just_as_it_was_served_hands_its_slot_on() -> None:
    queue = LiveQueue(1)
    served: list[str] = []

    async def run() -> None:
        go = asyncio.Event()
        tasks: dict[str, asyncio.Future[None]] = {}

        async def hold(name: str) -> None:
            async with queue.turn(lambda: Urgency.IN_PAUSE):
                served.append(name)
                await go.wait()
            if name == "first":  # same tick as the release that granted "unlucky" its slot
                tasks["unlucky"].cancel()

        tasks["first"] = asyncio.ensure_future(hold("first"))
        await _settle()
        for name in ("unlucky", "next"):
            tasks[name] = asyncio.ensure_future(hold(name))
        await _settle()
        go.set()
        await asyncio.wait_for(asyncio.gather(tasks["first"], tasks["next"]), 5)  # a leaked slot: never
        with pytest.raises(asyncio.CancelledError):
            await tasks["unlucky"]

    asyncio.run(run())
    assert served == ["first", "next"] and queue.busy == 0


def test_a_queue_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        LiveQueue(0)
