"""The charges and carnês, their state machines (reference §7) and the events each change records.

Not thread-safe by itself: the emulator calls every method under its one state lock.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from carteira.testing.efi_emulator import responses
from carteira.testing.efi_emulator.clock import Clock
from carteira.testing.efi_emulator.notifications import Courier, NotificationBook
from carteira.testing.efi_emulator.records import (
    CANCELLABLE,
    DUE_DATE_MOVABLE,
    PAYABLE,
    RESOLVED,
    Carnet,
    Charge,
)
from carteira.testing.efi_emulator.refusals import EfiRefusal, rule, unknown_id
from carteira.testing.efi_emulator.schema import Rules
from carteira.testing.efi_emulator.switches import Switches

IDENTICAL_ALLOWED = 2  # 4600210 refuses the third identical charge


class PaymentRefused(ValueError):
    """The `pay` test hook was asked for a payment a bank could not take (no boleto, already resolved, written off)."""


def _fingerprint(*parts: object) -> str:
    return json.dumps(parts, sort_keys=True, default=str)


class Ledger:
    """Every charge and carnê, with the transitions Efí allows and the notification events they emit."""

    def __init__(
        self,
        clock: Clock,
        switches: Switches,
        book: NotificationBook,
        courier: Courier,
        *,
        first_charge_id: int,
        first_carnet_id: int,
    ) -> None:
        self.clock = clock
        self.switches = switches
        self.book = book
        self.courier = courier
        self.charges: dict[int, Charge] = {}
        self.carnets: dict[int, Carnet] = {}
        self._charge_ids = itertools.count(first_charge_id)
        self._carnet_ids = itertools.count(first_carnet_id)
        self._ticked_on: date | None = None
        self._identical: dict[str, list[int]] = {}  # fingerprint -> ids of the charges or carnês that share it

    def next_carnet_id(self) -> int:
        """The id the next carnê gets (deterministic, in a range apart from charge ids)."""
        return next(self._carnet_ids)

    def rules(self) -> Rules:
        """The validation context for now."""
        return Rules(today=self.clock.now().date(), switches=self.switches)

    # -- lookups ----------------------------------------------------------------------------------------------

    def charge(self, charge_id: int, *, missing: EfiRefusal | None = None) -> Charge:
        """The charge `charge_id`, or the refusal for an unknown id."""
        found = self.charges.get(charge_id)
        if found is None:
            raise missing or unknown_id("id", charge_id)
        return found

    def carnet(self, carnet_id: int) -> Carnet:
        """The carnê `carnet_id`, or 3500010 for an unknown id."""
        found = self.carnets.get(carnet_id)
        if found is None:
            raise unknown_id("id", carnet_id)
        return found

    def parcel(self, carnet: Carnet, parcel: int) -> Charge:
        """Parcel number `parcel` (1..n) of `carnet`, or 3500010 for a number it does not have."""
        if not 1 <= parcel <= len(carnet.charge_ids):
            raise unknown_id("parcel", parcel)
        return self.charges[carnet.charge_ids[parcel - 1]]

    def parcels(self, carnet: Carnet) -> list[Charge]:
        """The carnê's parcels, in order."""
        return [self.charges[i] for i in carnet.charge_ids]

    # -- events -----------------------------------------------------------------------------------------------

    def _notify(self, token: str, url: str | None, event: dict[str, Any]) -> None:
        self.book.append(token, {**event, "created_at": responses.stamp(self.clock.now())})
        if url:
            self.courier.enqueue(url, token)

    def set_status(self, charge: Charge, status: str, **extra: Any) -> None:
        """Move `charge` to `status`, record the event under its token and refresh its carnê."""
        previous, charge.status = charge.status, status
        if charge.carnet_id is None:
            kind, custom_id, url = "charge", charge.custom_id, charge.notification_url
            ids = {"charge_id": charge.charge_id}
        else:
            carnet = self.carnets[charge.carnet_id]
            kind, custom_id, url = "carnet_charge", carnet.custom_id, carnet.notification_url
            ids = {"carnet_id": carnet.carnet_id, "charge_id": charge.charge_id}
        self._notify(
            charge.token,
            url,
            {
                "type": kind,
                "custom_id": custom_id,
                "status": {"current": status, "previous": previous},
                "identifiers": ids,
                **extra,
            },
        )
        charge.history.append(
            {
                "message": f"Status alterado de {previous} para {status}",
                "created_at": responses.stamp(self.clock.now()) or "",
            }
        )
        if charge.carnet_id is not None:
            self.refresh_carnet(self.carnets[charge.carnet_id])

    def set_carnet_status(self, carnet: Carnet, status: str | None, previous: str | None) -> None:
        """Record a carnê status change (previous None: the carnê was just created)."""
        carnet.status = status or carnet.status
        self._notify(
            carnet.token,
            carnet.notification_url,
            {
                "type": "carnet",
                "custom_id": carnet.custom_id,
                "status": {"current": carnet.status, "previous": previous},
                "identifiers": {"carnet_id": carnet.carnet_id},
            },
        )

    def refresh_carnet(self, carnet: Carnet) -> None:
        """Derive the carnê status from its parcels: finished never changes, nor does a cancelled carnê."""
        if carnet.status in ("finished", self.switches.carnet_status_after_cancel):
            return
        statuses = [p.status for p in self.parcels(carnet)]
        if all(s in RESOLVED for s in statuses):
            derived = "finished"
        elif "unpaid" in statuses:
            derived = "unpaid"
        else:
            derived = self.switches.carnet_active_status
        if derived != carnet.status:
            self.set_carnet_status(carnet, derived, carnet.status)

    # -- time -------------------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Apply what the calendar does on its own: a boleto past due turns `unpaid` (once per new day)."""
        today = self.clock.now().date()
        if today == self._ticked_on:
            return
        self._ticked_on = today
        late = timedelta(days=self.switches.unpaid_after_days)
        for charge in self.charges.values():
            if charge.status == "waiting" and charge.expire_at is not None and charge.expire_at + late <= today:
                self.set_status(charge, "unpaid")

    # -- creation ---------------------------------------------------------------------------------------------

    def new_charge(self, checked: dict[str, Any], metadata: dict[str, str | None], token: str | None = None) -> Charge:
        """Store a `new` charge with the next id (a parcel shares its carnê's token)."""
        charge = Charge(
            charge_id=next(self._charge_ids),
            items=checked["items"],
            shippings=checked["shippings"],
            total=checked["total"],
            custom_id=metadata.get("custom_id"),
            notification_url=metadata.get("notification_url"),
            created_at=self.clock.now(),
            token=token or self.book.new_token(),
        )
        self.charges[charge.charge_id] = charge
        return charge

    def announce_new(self, charge: Charge) -> None:
        """The `new` event of a standalone charge (previous: null)."""
        self._notify(
            charge.token,
            charge.notification_url,
            {
                "type": "charge",
                "custom_id": charge.custom_id,
                "status": {"current": "new", "previous": None},
                "identifiers": {"charge_id": charge.charge_id},
            },
        )

    def payer_rules(self, document: str, total: int) -> None:
        """Account-level refusals: the holder paying himself (4600222), bad payer data (4600142), limits (4600037)."""
        if document == self.switches.account_holder_document:
            raise rule(4600222, "O pagador não pode ser o próprio titular da conta.")
        if document in self.switches.inconsistent_documents:
            raise rule(4600142, "Os dados do pagador são inconsistentes (CPF/CNPJ e nome).")
        limit = self.switches.account_value_limit_cents
        if limit is not None and total > limit:
            raise rule(4600037, "O valor da emissão ultrapassa o limite de operação da conta.")

    def refuse_third_identical(self, fingerprint: str, statuses: Callable[[int], str]) -> None:
        """4600210 when two live (not cancelled) charges or carnês with the same fingerprint exist already."""
        if not self.switches.refuse_third_identical:
            return
        same = sum(1 for i in self._identical.get(fingerprint, ()) if statuses(i) != "canceled")
        if same >= IDENTICAL_ALLOWED:
            raise rule(
                4600210,
                "Emissão recusada: já existem duas cobranças idênticas. Altere a descrição, o vencimento ou o valor.",
            )

    def remember_identical(self, fingerprint: str, record_id: int) -> None:
        """Index a created charge or carnê under its fingerprint for 4600210."""
        self._identical.setdefault(fingerprint, []).append(record_id)

    def billet_fingerprint(
        self,
        charge_items: list[dict[str, Any]],
        charge_shippings: list[dict[str, Any]],
        total: int,
        billet: dict[str, Any],
    ) -> str:
        """What makes two boletos "identical" for 4600210: description, value, due date and payer, not custom_id."""
        document = str(billet["customer"].get("juridical_person", {}).get("cnpj") or billet["customer"].get("cpf"))
        fingerprint = _fingerprint("charge", charge_items, charge_shippings, billet["expire_at"], document, total)
        self.refuse_third_identical(fingerprint, lambda charge_id: self.charges[charge_id].status)
        return fingerprint

    def attach_billet(self, charge: Charge, billet: dict[str, Any], fingerprint: str) -> None:
        """Give `charge` its boleto (`new → waiting`)."""
        charge.billet, charge.method, charge.fingerprint = billet, "banking_billet", fingerprint
        self.remember_identical(fingerprint, charge.charge_id)
        charge.payment_created_at = self.clock.now()
        self.set_status(charge, "waiting")

    # -- the pay hook -----------------------------------------------------------------------------------------

    def pay(self, charge_id: int, value_cents: int | None, paid_on: date | None) -> None:
        """The bank paid `charge_id`: status `paid`, an event with `value` and `received_by_bank_at`."""
        charge = self.charges.get(charge_id)
        if charge is None:
            raise PaymentRefused(f"charge {charge_id} does not exist")
        if charge.status not in PAYABLE or charge.expire_at is None:
            raise PaymentRefused(f"charge {charge_id} is {charge.status!r}; a bank can pay only {sorted(PAYABLE)}")
        paid_on = paid_on or self.clock.now().date()
        terms = charge.billet["configurations"] if charge.billet else {}
        write_off = terms.get("days_to_write_off", self.switches.default_days_to_write_off)
        if paid_on > charge.expire_at + timedelta(days=write_off):
            raise PaymentRefused(
                f"charge {charge_id} was written off {write_off} days after {charge.expire_at}; "
                f"a bank refuses it on {paid_on}"
            )
        value = charge.total if value_cents is None else value_cents
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise PaymentRefused(f"value_cents must be a positive int, not {value_cents!r}")
        if self.switches.identified_before_paid and charge.status != "identified":
            self.set_status(charge, "identified")
        charge.paid_value, charge.paid_at, charge.received_by_bank_at = value, self.clock.now(), paid_on
        self.set_status(charge, "paid", value=value, received_by_bank_at=paid_on.isoformat())

    # -- status guards shared by charge and parcel routes -----------------------------------------------------

    def cancel(self, charge: Charge) -> None:
        """`new|link|waiting|unpaid → canceled`, else 3500043."""
        if charge.status not in CANCELLABLE:
            raise rule(
                3500043,
                f"Somente cobranças new, link, waiting ou unpaid podem ser canceladas (status atual: {charge.status}).",
            )
        self.set_status(charge, "canceled")

    def settleable(self, charge: Charge) -> bool:
        """Whether `charge` may be marked as paid by hand (3500069 otherwise)."""
        allowed = {"waiting", "unpaid"} | ({"new"} if self.switches.settle_allows_new else set())
        return charge.status in allowed

    def settle(self, charge: Charge) -> None:
        """`→ settled`, with no value recorded (reference §7), else 3500069."""
        if not self.settleable(charge):
            raise rule(
                3500069,
                f"Somente cobranças new, waiting ou unpaid podem ser marcadas como pagas "
                f"(status atual: {charge.status}).",
            )
        self.set_status(charge, "settled")

    def resendable(self, charge: Charge) -> bool:
        """Whether the boleto may be e-mailed again (3500066 otherwise)."""
        return charge.status == "waiting" or (self.switches.resend_allows_unpaid and charge.status == "unpaid")

    def require_movable(self, charge: Charge) -> None:
        """3500038 unless the charge is `waiting` or `unpaid`."""
        if charge.status not in DUE_DATE_MOVABLE:
            raise rule(
                3500038,
                f"Somente cobranças waiting ou unpaid podem ter o vencimento alterado (status atual: {charge.status}).",
            )

    def move_due_date(self, charge: Charge, due: date) -> None:
        """Set a new due date on a `waiting`/`unpaid` boleto; an overdue one waits again."""
        self.require_movable(charge)
        assert charge.billet is not None, charge
        charge.billet = {**charge.billet, "expire_at": due}
        overdue_on = due + timedelta(days=self.switches.unpaid_after_days)
        if charge.status == "unpaid" and overdue_on > self.clock.now().date():
            self.set_status(charge, "waiting")
