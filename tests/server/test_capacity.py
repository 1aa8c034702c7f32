"""The admission gate behind --max-inflight (pure asyncio, no network)."""

from __future__ import annotations

import asyncio

from flags_server.capacity import Gate


def test_gate_admits_in_order_and_resizes() -> None:
    async def scenario() -> list[str]:
        gate = Gate(1)
        order: list[str] = []

        async def worker(name: str, release: asyncio.Event) -> None:
            await gate.enter()
            order.append(name)
            await release.wait()
            gate.leave()

        events = {name: asyncio.Event() for name in "abc"}
        tasks = [asyncio.create_task(worker(n, events[n])) for n in "abc"]
        await asyncio.sleep(0)
        assert order == ["a"] and gate.active == 1
        gate.resize(2)  # a larger limit admits the next waiter at once
        await asyncio.sleep(0)
        assert order == ["a", "b"] and gate.active == 2
        events["a"].set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert order == ["a", "b", "c"]
        events["b"].set()
        events["c"].set()
        await asyncio.gather(*tasks)
        assert gate.active == 0
        return order

    assert asyncio.run(scenario()) == ["a", "b", "c"]


def test_cancelled_waiter_gives_its_place_back() -> None:
    async def scenario() -> int:
        gate = Gate(1)
        await gate.enter()
        waiter = asyncio.create_task(gate.enter())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        gate.leave()
        assert gate.try_enter()
        gate.leave()
        return gate.active

    assert asyncio.run(scenario()) == 0


def test_unlimited_gate_never_waits() -> None:
    gate = Gate(None)
    assert all(gate.try_enter() for _ in range(1000))
