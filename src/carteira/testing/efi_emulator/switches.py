"""Switches: one setting for every behaviour that reference §12 (and its ✗/? marks) leaves uncertain.

Each default follows the reading given in docs/decisions/0400-efi-emulator-switch-defaults.md. Flip a switch
to test an integration against the other reading before the live sandbox settles the question.
"""

from __future__ import annotations

from typing import Literal

import attrs

CallbackPolicy = Literal["on_non_2xx", "until_queried"]
CallbackContentType = Literal["form", "json"]
Remainder = Literal["first", "last"]
DayOverflow = Literal["clamp", "roll_over"]

#: The "Requisições" retry schedule of reference §8 (b), in minutes. The source's last value, "52560", reads
#: as a typo for the doubling 2560; the switch lets a test use either.
CALLBACK_RETRY_MINUTES = (5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560)


@attrs.define(kw_only=True)
class Switches:
    """The emulator's answers to the open points of reference §12, mutable while the emulator runs.

    Attributes are grouped by the §12 point they settle; the last group covers the ✗/? marks of §4-§7.
    """

    # §12.1: DOC-GN 2022 made the payer's phone mandatory; DOC-EFI 2024 does not. The regex always applies.
    phone_number_required: bool = False
    # §12.2: 2..12 per DOC-GN and codes 3500041/4600059; 1..24 per the 2024 field text.
    repeats_min: int = 2
    repeats_max: int = 12
    # §12.3: HTTP status per error class. Codes, not statuses, carry the meaning; DOC-EFI shows some business
    # errors under a 500 tab, so set business_error_status=500 to test that reading.
    validation_error_status: int = 400
    business_error_status: int = 400
    auth_failure_status: int = 401
    # §12.4: whether the 0-330 cap (thousandths of a percent) also binds `type: monthly`; None = no cap.
    interest_monthly_max: int | None = 330
    # §12.5: the carnê status after PUT /carnet/:id/cancel, and the label of a carnê with no overdue parcel.
    carnet_status_after_cancel: str = "canceled"
    carnet_active_status: str = "up_to_date"
    # §12.6: callback re-delivery, body encoding and response-time limit.
    callback_policy: CallbackPolicy = "on_non_2xx"
    callback_content_type: CallbackContentType = "form"
    callback_timeout_s: float = 5.0
    callback_retry_minutes: tuple[int, ...] = CALLBACK_RETRY_MINUTES
    callback_redelivery_days: int = 3
    callback_duplicates: int = 0
    # §12.7: a boleto turns `unpaid` this many days after its due date; `identified` before `paid` (Bolix).
    unpaid_after_days: int = 1
    identified_before_paid: bool = False
    # §12.8: which parcel takes the cents left over by split_items; parcel dates on days 29-31.
    split_remainder: Remainder = "first"
    parcel_day_overflow: DayOverflow = "clamp"
    # §12.9: whether CPF/CNPJ check digits are verified server-side.
    verify_check_digits: bool = True
    # §12.10: GET /charges page size when `limit` is absent, and the largest page served.
    list_default_limit: int = 100
    list_limit_max: int = 1000
    # No source shows a `carnet_id` in a parcel's list entry (both SDKs' list types omit it), yet a lost
    # carnê is found again through it: decision 0403. False serves the entry as the SDKs type it.
    list_parcel_carnet_id: bool = True
    # ✗/? points of §4-§7.
    due_date_today_allowed: bool = True  # error code says >= today, the page text says > today
    due_date_max_months: int = 41  # 4600414: "about 3 years 5 months"
    settle_allows_new: bool = True  # code 3500069 allows `new`; the doc text only waiting/unpaid
    resend_allows_unpaid: bool = False  # code 3500066 says only `waiting`; the doc text adds unpaid
    message_line_max: int = 100  # NODE-EFI2 regex; the carnê sample speaks of 80
    negative_item_values: bool = False  # 3500095 forbids them for marketplace only (?)
    default_days_to_write_off: int = 89  # the former fixed value, presumed default
    refuse_third_identical: bool = True  # 4600210
    bolix: bool = False  # add the `pix` block (boleto + Pix QR) to billets
    account_holder_document: str | None = None  # 4600222 when the payer's CPF/CNPJ equals it
    inconsistent_documents: frozenset[str] = frozenset()  # 4600142 for these CPF/CNPJ
    account_value_limit_cents: int | None = None  # 4600037
    parcel_value_limit_cents: int | None = None  # 4600057
    daily_request_limit: int | None = None  # 3500049 per endpoint per emulator day; None = unlimited
    rate_limit_status: int = 429  # HTTP status of 3500049 (?)
