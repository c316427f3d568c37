"""The PaymentGateway contract, run against FakeGateway (numbered and UUID ids) and EfiGateway over the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from carteira.adapters.efi import EfiGateway
from carteira.domain.money import Money
from carteira.ports.gateway import ChargeId, PaymentGateway
from carteira.testing.contracts.gateway import GatewayHarness, PaymentGatewayContract
from carteira.testing.efi_emulator import EfiEmulator
from carteira.testing.fake_gateway import FakeGateway, IdScheme

TODAY = date(2026, 1, 10)
CALLBACK = "https://erp.example/efi/callback"


class FakeHarness:
    """The contract's view of a FakeGateway."""

    def __init__(self, ids: IdScheme = "sequential") -> None:
        self.tokens: list[str] = []
        self.fake = FakeGateway(today=TODAY, on_notification=self._deliver, ids=ids)

    def _deliver(self, url: str, token: str) -> None:
        if url == CALLBACK:
            self.tokens.append(token)

    @property
    def gateway(self) -> PaymentGateway:
        return self.fake

    @property
    def today(self) -> date:
        return self.fake.today

    @property
    def callback_url(self) -> str:
        return CALLBACK

    def pay(self, charge_id: ChargeId, value: Money | None = None, paid_on: date | None = None) -> None:
        self.fake.pay(charge_id, value, paid_on)

    def delivered_tokens(self) -> list[str]:
        return list(self.tokens)


def _token_from(*args: Any, **kwargs: Any) -> str | None:
    """The token of an emulator callback, whatever shape the emulator passes it in."""
    for value in [*args, *kwargs.values()]:
        if isinstance(value, str) and not value.startswith("http"):
            return value
        if isinstance(value, dict) and "notification" in value:
            return str(value["notification"])
    return None


class EmulatorHarness:
    """The contract's view of EfiGateway talking to the emulator through its in-process transport."""

    def __init__(self) -> None:
        self.emulator = EfiEmulator(client_id="cid", client_secret="csecret", today=TODAY)
        self.tokens: list[str] = []
        self.emulator.register_callback(CALLBACK, self._deliver)
        self.efi = EfiGateway(
            "cid",
            "csecret",
            "sandbox",
            transport=self.emulator.transport(),
            today=lambda: self.emulator.today,
            sleep=lambda _s: None,
        )

    def _deliver(self, *args: Any, **kwargs: Any) -> None:
        token = _token_from(*args, **kwargs)
        if token is not None:
            self.tokens.append(token)

    @property
    def gateway(self) -> PaymentGateway:
        return self.efi

    @property
    def today(self) -> date:
        today: date = self.emulator.today
        return today

    @property
    def callback_url(self) -> str:
        return CALLBACK

    def pay(self, charge_id: ChargeId, value: Money | None = None, paid_on: date | None = None) -> None:
        # The emulator is Efí: its own hook takes Efí's integer id.
        self.emulator.pay(int(charge_id), value_cents=None if value is None else value.cents, paid_on=paid_on)

    def delivered_tokens(self) -> list[str]:
        return list(self.tokens)


class TestFakeGateway(PaymentGatewayContract):
    @pytest.fixture
    def harness(self) -> GatewayHarness:
        return FakeHarness()


class TestFakeGatewayWithUuidIds(PaymentGatewayContract):
    """The same suite, unchanged, against a gateway whose ids are not numbers."""

    @pytest.fixture
    def harness(self) -> GatewayHarness:
        return FakeHarness(ids="uuid")


def test_the_uuid_fake_really_mints_uuids() -> None:
    import uuid

    from carteira.testing.contracts.gateway import PaymentGatewayContract as Contract

    harness = FakeHarness(ids="uuid")
    contract = Contract()
    billet = harness.fake.create_billet(contract.billet(harness))
    carnet = harness.fake.create_carnet(contract.carnet(harness))
    for text in [billet.charge_id, carnet.carnet_id, *(p.charge_id for p in carnet.parcels)]:
        assert str(uuid.UUID(text)) == text
    assert not billet.charge_id.isdigit()


class TestEfiGatewayOnEmulator(PaymentGatewayContract):
    @pytest.fixture
    def harness(self) -> Iterator[GatewayHarness]:
        harness = EmulatorHarness()
        with harness.emulator, harness.efi:
            yield harness


def test_the_fake_takes_carnet_limits_and_refuses_what_is_not_an_id_scheme() -> None:
    from carteira.domain import CarnetLimits
    from carteira.errors import GatewayValidationError, InvalidInput, InvalidType
    from carteira.testing.contracts.gateway import PaymentGatewayContract as Contract

    harness = FakeHarness()
    narrow = CarnetLimits(min_parcels=4, max_parcels=5)
    fake = FakeGateway(today=TODAY, carnet_limits=narrow)
    assert fake.carnet_limits is narrow
    assert harness.fake.carnet_limits == CarnetLimits(min_parcels=2, max_parcels=12)
    with pytest.raises(GatewayValidationError, match="4 to 5") as caught:
        fake.create_carnet(Contract().carnet(harness))  # three parcels: fewer than 4
    assert caught.value.field == "repeats"
    assert [p.parcel for p in fake.create_carnet(Contract().carnet(harness, repeats=4)).parcels] == [1, 2, 3, 4]
    with pytest.raises(InvalidInput):
        FakeGateway(today=TODAY, ids="numbers")  # type: ignore[arg-type]
    with pytest.raises(InvalidType) as wrong:
        fake.settle_charge(1001)  # type: ignore[arg-type]
    assert wrong.value.field == "charge_id"
