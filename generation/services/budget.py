"""Campaign budget: reserve the worst case before submitting, settle or release at the end.

Every change locks the campaign row (select_for_update) inside a transaction, so concurrent
submissions cannot together reserve more than the budget.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from campaigns.models import Campaign
from mediastudio.lib.exceptions import ApplicationError

ZERO = Decimal("0")


class BudgetExceeded(ApplicationError):
    code = "budget_exceeded"


def money(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'))}"


def budget_reserve(*, campaign: Campaign | Any, amount: Decimal) -> Campaign:
    """Hold `amount` on the campaign, or raise BudgetExceeded saying budget, reserved, spent and the estimate.

    Must run inside the caller's transaction (the reservation lives and dies with it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("budget_reserve must run inside a transaction")
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if amount <= ZERO:
        return locked
    remaining = locked.budget - locked.spent - locked.reserved
    if amount > remaining:
        raise BudgetExceeded(
            f"This would exceed the budget of '{locked.name}': budget {money(locked.budget)}, "
            f"reserved {money(locked.reserved)}, spent {money(locked.spent)}, remaining {money(remaining)}; "
            f"this request needs up to {money(amount)}.",
            extra={
                "budget": str(locked.budget),
                "reserved": str(locked.reserved),
                "spent": str(locked.spent),
                "remaining": str(remaining),
                "estimate": str(amount),
            },
        )
    Campaign.objects.filter(pk=locked.pk).update(reserved=F("reserved") + amount)
    locked.reserved += amount
    return locked


def budget_settle(*, campaign_id: Any, reserved: Decimal, actual: Decimal) -> None:
    """Give back a reservation and book what was really spent (either may be zero).

    One UPDATE: its row lock lasts until the caller commits, and every finishing job of a campaign
    waits for it, so no read comes first. The reservation never drops below zero, whatever happened
    before."""
    if campaign_id is None or (reserved <= ZERO and actual <= ZERO):
        return
    Campaign.objects.filter(pk=campaign_id).update(
        reserved=Greatest(F("reserved") - Value(reserved), Value(ZERO)), spent=F("spent") + Value(max(actual, ZERO))
    )
