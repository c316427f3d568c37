"""Faults drawn at random (seeded): 5xx, timeouts, lost answers and creates that land after the client gave up."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from carteira.testing.efi_emulator import EfiEmulator, FaultRates, serve

from .conftest import CLIENT_ID, CLIENT_SECRET, TODAY, authorize, billet

CREATE = "POST /charge/one-step"


def _outcome(api: httpx.Client, n: int) -> str:
    try:
        response = api.post(
            "/v1/charge/one-step", json=billet(metadata__custom_id=f"op-{n}", items__0__value=10_000 + n)
        )
    except httpx.ReadTimeout:
        return "no answer"
    return str(response.status_code)


def _outcomes(seed: int, calls: int, **rates: Any) -> tuple[list[str], int]:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    emu.random_faults(FaultRates(seed=seed, **rates))
    with httpx.Client(transport=emu.transport(), base_url="https://cobrancas-h.api.efipay.com.br") as api:
        assert authorize(api).status_code == 200  # faults spare /authorize
        return [_outcome(api, n) for n in range(calls)], len(emu.charges)


@pytest.mark.parametrize(
    "bad",
    [{"fail": 1.5}, {"timeout": -0.1}, {"lost": True}, {"fail": 0.6, "slow": 0.5}, {"slow": 0.1, "slow_s": -1.0}],
)
def test_rates_are_probabilities_that_add_up_to_one_at_most(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"probability|exceed|negative"):
        FaultRates(**bad)


def test_the_same_seed_replays_the_same_faults_and_another_does_not() -> None:
    first, _ = _outcomes(7, 120, fail=0.2, timeout=0.1, lost=0.1)
    again, _ = _outcomes(7, 120, fail=0.2, timeout=0.1, lost=0.1)
    other, _ = _outcomes(8, 120, fail=0.2, timeout=0.1, lost=0.1)
    assert first == again != other


def test_each_fault_strikes_at_its_rate_and_does_what_it_says() -> None:
    outcomes, charges = _outcomes(3, 1000, fail=0.1, timeout=0.1, lost=0.1)
    counts = Counter(outcomes)
    # 1000 draws: each fault's count lies within five standard deviations (about 47) of 100.
    assert 53 <= counts["500"] <= 147
    assert 106 <= counts["no answer"] <= 294  # timeouts and lost answers both go unanswered
    assert counts["200"] + counts["500"] + counts["no answer"] == 1000
    # A 5xx and a timeout do nothing; a lost answer did the work: the charges are the 200s and the lost ones.
    assert charges - counts["200"] == pytest.approx(counts["no answer"] / 2, abs=60)


def test_faults_strike_only_the_routes_named() -> None:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    emu.random_faults(FaultRates(fail=1.0, routes={"GET /charges"}))
    with httpx.Client(transport=emu.transport(), base_url="https://cobrancas-h.api.efipay.com.br") as api:
        authorize(api)
        assert _outcome(api, 1) == "200"
        listing = api.get(
            "/v1/charges", params={"charge_type": "billet", "begin_date": "2026-01-01", "end_date": "2026-12-31"}
        )
        assert listing.status_code == 500


@pytest.fixture
def loopback() -> Iterator[tuple[EfiEmulator, str]]:
    emu = EfiEmulator(CLIENT_ID, CLIENT_SECRET, today=TODAY)
    emu.timeout_hang_s = 0.5
    with emu, serve(emu) as url:
        yield emu, url


def test_a_slow_create_lands_after_a_client_that_gave_up(loopback: tuple[EfiEmulator, str]) -> None:
    emu, url = loopback
    emu.random_faults(FaultRates(slow=1.0, slow_s=0.4, routes={CREATE}))
    with httpx.Client(base_url=url, timeout=0.1) as api:
        authorize(api)
        with pytest.raises(httpx.ReadTimeout):
            api.post("/v1/charge/one-step", json=billet())
        assert len(emu.charges) == 0  # not yet: a look-up now finds nothing
        time.sleep(0.5)
        assert [c["custom_id"] for c in emu.charges.values()] == ["INV-000123"]


def test_random_faults_are_set_and_cleared_over_http(loopback: tuple[EfiEmulator, str]) -> None:
    emu, url = loopback
    spec = {"seed": 5, "fail": 0.5, "slow": 0.25, "slow_s": 0.01, "routes": [CREATE]}
    answer = httpx.post(f"{url}/_emulator/faults", json={"random": spec}).json()["data"]
    assert answer["random"] == {"timeout": 0.0, "lost": 0.0, **spec}
    assert emu.fault_rates == FaultRates(seed=5, fail=0.5, slow=0.25, slow_s=0.01, routes=frozenset({CREATE}))
    assert httpx.post(f"{url}/_emulator/faults", json={"random": {"fail": 2}}).status_code == 400
    assert httpx.post(f"{url}/_emulator/faults", json={"clear": True}).json()["data"]["random"] is None
    assert emu.fault_rates is None


def test_a_client_that_hangs_up_first_leaves_no_traceback(
    loopback: tuple[EfiEmulator, str], capfd: pytest.CaptureFixture[str]
) -> None:
    emu, url = loopback
    emu.random_faults(FaultRates(slow=1.0, slow_s=0.3, routes={CREATE}))
    with httpx.Client(base_url=url, timeout=0.05) as api:
        authorize(api)
        for n in range(3):
            with pytest.raises(httpx.ReadTimeout):
                api.post("/v1/charge/one-step", json=billet(items__0__value=10_000 + n))  # not identical (4600210)
    time.sleep(0.5)  # the answers are written to sockets the client closed
    assert len(emu.charges) == 3
    assert "Traceback" not in capfd.readouterr().err


def test_loopback_answers_do_not_wait_for_a_delayed_ack(loopback: tuple[EfiEmulator, str]) -> None:
    _, url = loopback
    with httpx.Client(base_url=url) as api:
        started = time.perf_counter()
        for _ in range(50):
            assert api.get("/_emulator/clock").status_code == 200
        # With Nagle's algorithm on, each answer's body waited ~40 ms for the client's ACK: 2 s for 50.
        assert time.perf_counter() - started < 1.0
