"""FakeGateway and EfiGateway+emulator, driven through the same random operations, answer alike.

The contract suite checks chosen cases; this drives both implementations through random sequences
of creates, payments, settles, cancels, resends, due-date changes and days passing, and compares
every outcome (the value returned, or the error's class and Efí code), so the fake cannot quietly
grow kinder than Efí.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from carteira.adapters.efi import EfiGateway
from carteira.domain.money import Money
from carteira.errors import GatewayError
from carteira.ports.gateway import BilletRequest, ChargeId, Item, Payer, PaymentGateway
from carteira.testing.efi_emulator import EfiEmulator, PaymentRefused
from carteira.testing.fake_gateway import FakeGateway

TODAY = date(2026, 1, 10)
PAYER = Payer("Maria da Silva", "529.982.247-25")

Operation = tuple[str, int, int]
_operations = st.tuples(
    st.sampled_from(["create", "settle", "cancel", "pay", "resend", "due", "wait", "find"]),
    st.integers(0, 3),
    st.integers(-2, 40),
)


def _outcome(call: Callable[[], object]) -> object:
    try:
        result = call()
    except GatewayError as error:
        return ("error", type(error).__name__, error.code is not None)
    return ("ok", result)


class _Side:
    def __init__(
        self,
        gateway: PaymentGateway,
        pay: Callable[[ChargeId], None],
        wait: Callable[[int], None],
        today: Callable[[], date],
    ) -> None:
        self.gateway, self.pay, self.wait, self.today = gateway, pay, wait, today
        self.ids: list[ChargeId] = []

    def run(self, step: int, operation: Operation) -> object:
        kind, index, days = operation
        if kind == "create":
            request = BilletRequest(
                items=(Item(f"Parcela {step}", Money("50.00")),),
                payer=PAYER,
                due=self.today() + timedelta(days=days),
                operation_id=f"diff-{step}",
            )
            try:
                self.ids.append(self.gateway.create_billet(request).charge_id)
            except GatewayError as error:
                return ("error", type(error).__name__, error.code is not None)
            return ("ok", "created")
        if kind == "wait":
            self.wait(max(days, 0) % 10)
            return ("ok", None)
        if not self.ids:
            return ("ok", None)
        charge_id = self.ids[index % len(self.ids)]
        calls: dict[str, Callable[[], object]] = {
            "settle": lambda: self.gateway.settle_charge(charge_id),
            "cancel": lambda: self.gateway.cancel_charge(charge_id),
            "resend": lambda: self.gateway.resend_billet(charge_id, "maria@example.com"),
            "due": lambda: self.gateway.change_due_date(charge_id, self.today() + timedelta(days=days)),
            "find": lambda: [s.status for s in self.gateway.find_charges(f"diff-{step - 1}")],
        }
        if kind == "pay":
            try:
                self.pay(charge_id)
            except (GatewayError, PaymentRefused):  # each side's own hook refuses in its own words
                return ("refused",)
            return ("ok", None)
        return _outcome(calls[kind])


@settings(max_examples=60)
@given(operations=st.lists(_operations, min_size=1, max_size=14))
def test_fake_and_efi_on_the_emulator_agree_step_by_step(operations: list[Operation]) -> None:
    fake = FakeGateway(today=TODAY)
    fake_side = _Side(fake, lambda cid: fake.pay(cid), fake.advance, lambda: fake.today)
    with (
        EfiEmulator(client_id="cid", client_secret="cs", today=TODAY) as emulator,
        EfiGateway(
            "cid", "cs", "sandbox", transport=emulator.transport(), today=lambda: emulator.today, sleep=lambda _s: None
        ) as efi,
    ):

        def wait(days: int) -> None:
            emulator.today = emulator.today + timedelta(days=days)

        efi_side = _Side(efi, lambda cid: emulator.pay(int(cid)), wait, lambda: emulator.today)
        for step, operation in enumerate(operations):
            expected = efi_side.run(step, operation)
            actual = fake_side.run(step, operation)
            assert actual == expected, (step, operation)
