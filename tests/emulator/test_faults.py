"""Fault injection: latency that overlaps across threads, 5xx, timeouts, lost responses, rate limits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator

from .conftest import authorize, billet, one_step, refusal


def test_fail_next_answers_5xx_and_does_nothing(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.fail_next(2, status=503)
    for _ in range(2):
        response = api.post("/v1/charge/one-step", json=billet())
        assert response.status_code == 503
        assert refusal(response)[0] == 3500000
    assert emu.charges == {}
    assert api.post("/v1/charge/one-step", json=billet()).status_code == 200


def test_fail_next_with_the_retryable_timeout_code(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.fail_next(status=500, code=4600100)
    assert refusal(api.get("/v1/charge/1"))[0] == 4600100


def test_faults_spare_authorize(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.fail_next()
    emu.timeout_next()
    assert authorize(api).status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        api.get("/v1/charge/1")
    assert api.get("/v1/charge/1").status_code == 500


def test_timeout_does_no_work(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.timeout_next()
    with pytest.raises(httpx.ReadTimeout):
        api.post("/v1/charge/one-step", json=billet())
    assert emu.charges == {}


def test_lost_response_does_the_work(emu: EfiEmulator, api: httpx.Client) -> None:
    charge_id = one_step(api)
    emu.lose_next_response()
    with pytest.raises(httpx.ReadTimeout):
        api.put(f"/v1/charge/{charge_id}/cancel")
    assert emu.charges[charge_id]["status"] == "canceled"
    assert refusal(api.put(f"/v1/charge/{charge_id}/cancel"))[0] == 3500043  # the retry sees a status error


def test_clear_faults(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.fail_next(3)
    emu.timeout_next(3)
    emu.lose_next_response(3)
    emu.clear_faults()
    one_step(api)


def test_latency_overlaps_across_threads(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.latency_s = 0.2
    bodies = [billet(metadata__custom_id=f"op-{n}", items__0__value=10000 + n) for n in range(16)]
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda body: api.post("/v1/charge/one-step", json=body).status_code, bodies))
    elapsed = time.perf_counter() - started
    assert statuses == [200] * 16
    assert elapsed < 0.2 * 16 / 3  # serialised calls would take 3.2 s; overlapping ones about 0.2 s
    assert len(emu.charges) == 16
    assert len({c["custom_id"] for c in emu.charges.values()}) == 16


def test_concurrent_creates_get_distinct_ids_and_complete_token_lists(emu: EfiEmulator, api: httpx.Client) -> None:
    bodies = [billet(metadata__custom_id=f"op-{n}", items__0__value=10000 + n) for n in range(64)]
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda body: api.post("/v1/charge/one-step", json=body).json()["data"]["charge_id"],
                            bodies))
    assert sorted(ids) == list(range(min(ids), min(ids) + 64))
    for charge_id in ids[:5]:
        token = emu.charges[charge_id]["notification_token"]
        assert [e["id"] for e in api.get(f"/v1/notification/{token}").json()["data"]] == [1, 2]


def test_daily_request_limit(emu: EfiEmulator, api: httpx.Client) -> None:
    emu.switches.daily_request_limit = 2
    charge_id = one_step(api)
    assert api.get(f"/v1/charge/{charge_id}").status_code == 200
    assert api.get(f"/v1/charge/{charge_id}").status_code == 200
    limited = api.get(f"/v1/charge/{charge_id}")
    assert limited.status_code == 429
    assert refusal(limited)[0] == 3500049
    token = emu.charges[charge_id]["notification_token"]
    assert all(api.get(f"/v1/notification/{token}").status_code == 200 for _ in range(4))  # twice the quota
    emu.advance(24 * 3600)
    authorize(api)
    assert api.get(f"/v1/charge/{charge_id}").status_code == 200  # a new day unblocks
