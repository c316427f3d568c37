"""Billing-run throughput: EfiGateway over the Efí emulator with 50 ms of latency per call.

Sends 2,000 billets with 32 threads over ONE EfiGateway (one httpx.Client, one token kept by its
auth flow), and 200 one after the other, and prints calls per second and the speed-up against the
ideal 32x. The floor is a bare httpx.Client over a MockTransport that only sleeps the same 50 ms, measured the same way
in the same run. Each figure is the median of several rounds.

    .venv/bin/python benchmarks/gateway.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx

from carteira.adapters.efi import EfiGateway
from carteira.domain.money import Money
from carteira.ports.gateway import BilletRequest, Item, Payer
from carteira.testing.efi_emulator import EfiEmulator

LATENCY_S = 0.05
THREADS = 32
CONCURRENT_CALLS = 2_000
SEQUENTIAL_CALLS = 200
TODAY = date(2026, 1, 10)


def requests(count: int, tag: str) -> list[BilletRequest]:
    payer = Payer("Maria da Silva", "529.982.247-25", email="maria@example.com", phone="11987654321")
    return [
        BilletRequest(
            items=(Item(f"Mensalidade {tag}-{i}", Money("125.00")),),
            payer=payer,
            due=TODAY + timedelta(days=30),
            operation_id=f"bench-{tag}-{i}",
        )
        for i in range(count)
    ]


def efi_rate(count: int, concurrency: int, tag: str) -> float:
    """Billets per second through EfiGateway to a fresh emulator."""
    with EfiEmulator(client_id="cid", client_secret="csecret", today=TODAY) as emulator:
        emulator.latency_s = LATENCY_S
        with EfiGateway("cid", "csecret", "sandbox", transport=emulator.transport(), today=lambda: TODAY) as efi:
            batch = requests(count, tag)
            efi.find_charges("warm-up")  # the token, the pool and the converter's hooks, out of the timing
            started = time.perf_counter()
            outcomes = efi.create_billets(batch, concurrency=concurrency)
            elapsed = time.perf_counter() - started
    failed = [o.error for o in outcomes if o.error is not None]
    if failed:
        raise SystemExit(f"{len(failed)} billets failed, first: {failed[0]}")
    return count / elapsed


def floor_rate(count: int, concurrency: int) -> float:
    """Calls per second of a bare httpx.Client over a transport that only sleeps LATENCY_S."""

    def handler(_request: httpx.Request) -> httpx.Response:
        time.sleep(LATENCY_S)
        return httpx.Response(200, json={"code": 200, "data": {"charge_id": 1}})

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="https://floor.invalid") as client:

        def call(_index: int) -> None:
            client.post("/v1/charge/one-step", json={"items": []}).raise_for_status()

        started = time.perf_counter()
        if concurrency == 1:
            for index in range(count):
                call(index)
        else:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                list(pool.map(call, range(count)))
        return count / (time.perf_counter() - started)


def median_of(rounds: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(r) for r in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = args.rounds

    seq = median_of(rounds, lambda r: efi_rate(SEQUENTIAL_CALLS, 1, f"s{r}"))
    par = median_of(rounds, lambda r: efi_rate(CONCURRENT_CALLS, THREADS, f"p{r}"))
    floor_seq = median_of(rounds, lambda r: floor_rate(SEQUENTIAL_CALLS, 1))
    floor_par = median_of(rounds, lambda r: floor_rate(CONCURRENT_CALLS, THREADS))

    speedup = par / seq
    floor_speedup = floor_par / floor_seq
    print(f"gateway benchmark: {LATENCY_S * 1000:.0f} ms latency per call, median of {rounds} rounds")
    print(f"  EfiGateway + emulator, sequential ({SEQUENTIAL_CALLS} billets):     {seq:8.1f} calls/s")
    print(f"  EfiGateway + emulator, {THREADS} threads ({CONCURRENT_CALLS} billets):   {par:8.1f} calls/s")
    print(f"  speed-up {speedup:.1f}x of ideal {THREADS}x = {speedup / THREADS:.1%}")
    print(f"  floor (bare httpx, same latency), sequential:        {floor_seq:8.1f} calls/s")
    print(f"  floor (bare httpx, same latency), {THREADS} threads:        {floor_par:8.1f} calls/s")
    print(f"  floor speed-up {floor_speedup:.1f}x of ideal {THREADS}x = {floor_speedup / THREADS:.1%}")
    print(f"  EfiGateway at {THREADS} threads reaches {par / floor_par:.1%} of the floor's throughput")


if __name__ == "__main__":
    main()
