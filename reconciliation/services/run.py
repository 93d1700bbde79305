"""Reading Stripe's lists and comparing them with our rows (`manage.py reconcile_stripe`).

For the platform and each seller's connected account (`stripe_account=`), a run reads
PaymentIntents, charges, refunds and disputes, and on the platform the application fees with
their refunds, in pages of 100 inside `created` windows of a week, newest first within each
window. After each page it stores where it is (`RunCursor`: the window and the last object
read), so a run Stripe interrupted resumes there. Each page is matched against our Order,
Payment, Refund and Dispute rows in a few queries; then our own rows of the period that no list
showed are checked one by one (the only per-object calls, for what is most likely a
difference). Every difference is stored on the run (`Difference`), with the order it concerns
and the staff action that can fix it safely, if one exists. Nothing else is written: a run
never changes an order, a payment, a refund or a dispute.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.errors import PaymentProviderError
from core.money import format_usd
from disputes.models import Dispute
from marketplace.pricing import fee_refund_cents
from payments import stripe_api
from payments.models import REFUND_COUNTING_STATUSES, Order, Payment, Refund, RefundStatus
from payments.services.refunds import NEXT_STATUSES
from reconciliation.models import (
    Difference,
    DifferenceKind,
    Fix,
    ReconciliationRun,
    RunCursor,
    RunStatus,
)

logger = logging.getLogger(__name__)

K = DifferenceKind
WINDOW = timedelta(days=7)
PAGE_SIZE = 100
PLATFORM = ""
SELLER_LISTS = ("payment_intent", "charge", "refund", "dispute")
OURS = "ours"  # the cursor of the check of our own rows that no list showed
FEES = "application_fee"
OUR_FEES = "ours_fees"
MONEY_REFUND_STATUSES = ("succeeded", "pending", "requires_action")
REFUND_KINDS = (K.REFUND_STRIPE_ONLY, K.REFUND_LOCAL_ONLY, K.REFUND_STATE)


class RunInterrupted(Exception):
    """Stripe stopped answering part-way; the run is stored as interrupted and resumable."""

    def __init__(self, run: ReconciliationRun):
        super().__init__(run.error)
        self.run = run


@dataclass
class Seen:
    """What this process read from Stripe's lists (a resumed run re-checks the rest one by one)."""

    payment_intents: set[str] = field(default_factory=set)
    refunds: set[str] = field(default_factory=set)
    disputes: set[str] = field(default_factory=set)
    fee_charges: set[str] = field(default_factory=set)


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _next_second(moment: datetime) -> datetime:
    """The end of the current second: Stripe's `created` counts whole seconds, so an object made
    in the second the run starts is in its period."""
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _when(timestamp) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), tz=UTC) if timestamp else None


def reconciliation_run(
    *, since: datetime, account: str = "", started_by: str = "command", now: datetime | None = None
) -> ReconciliationRun:
    """Compare Stripe with our rows for objects created since `since` (one account, or all).

    An interrupted run with the same `since` and `account` is continued rather than begun
    again. Raises RunInterrupted when Stripe stops answering (the run keeps its cursors).
    """
    run = (
        ReconciliationRun.objects.filter(since=since, account=account)
        .exclude(status=RunStatus.FINISHED)
        .order_by("-pk")
        .first()
    )
    if run is None:
        run = ReconciliationRun.objects.create(
            since=since,
            until=_next_second(now or timezone.now()),
            account=account,
            started_by=started_by[:150],
        )
    run.status, run.error = RunStatus.RUNNING, ""
    run.save(update_fields=["status", "error"])
    reader = _Reader(run)
    try:
        reader.read_all()
    except PaymentProviderError as error:
        run.status = RunStatus.INTERRUPTED
        run.error = f"Stripe did not answer ({error.message}); run it again to resume."[:500]
        run.save(update_fields=["status", "error", "pages_read", "objects_read", "skipped_accounts"])
        raise RunInterrupted(run) from error
    run.status, run.finished_at = RunStatus.FINISHED, timezone.now()
    run.save()
    return run


def run_accounts(*, account: str = "") -> list[str]:
    """The connected accounts a run reads: one, or every seller's, oldest seller first."""
    if account:
        return [account]
    return list(
        User.objects.exclude(stripe_account_id="").order_by("pk").values_list("stripe_account_id", flat=True)
    )


class _Reader:
    def __init__(self, run: ReconciliationRun):
        self.run = run
        self.seen = Seen()
        self.accounts = run_accounts(account=run.account)

    # -- the order of work ---------------------------------------------------------------------

    def read_all(self) -> None:
        lists = {
            "payment_intent": self.payment_intents,
            "charge": self.charges,
            "refund": self.refunds,
            "dispute": self.disputes,
        }
        if not self.run.account:
            # Nothing is ever charged on the platform itself: anything there is money with no order.
            for kind, handle in lists.items():
                self.read_list(account=PLATFORM, kind=kind, handle=handle)
        for account in self.accounts:
            if account in self.run.skipped_accounts:
                continue
            try:
                for kind, handle in lists.items():
                    self.read_list(account=account, kind=kind, handle=handle)
                self.once(account=account, kind=OURS, check=self.our_rows)
            except stripe_api.StripeRefused as error:
                if error.stripe_code != "account_invalid":
                    raise
                # The account left the platform; replay_stripe_events disconnects its seller.
                logger.warning(
                    "Reconciliation: Stripe refuses to read %s (account_invalid); skipped", account
                )
                self.run.skipped_accounts = [*self.run.skipped_accounts, account]
                self.run.save(update_fields=["skipped_accounts"])
        self.read_list(account=PLATFORM, kind=FEES, handle=self.fees)
        self.once(account=PLATFORM, kind=OUR_FEES, check=self.our_fees)

    def cursor(self, *, account: str, kind: str) -> RunCursor:
        cursor, _ = RunCursor.objects.get_or_create(
            run=self.run, account=account, kind=kind, defaults={"window_start": self.run.since}
        )
        return cursor

    def read_list(self, *, account: str, kind: str, handle: Callable[[str, list[dict]], None]) -> None:
        """Every page of one list in the run's period, window by window, saving the cursor after
        each page (a page read twice after a resume finds the same differences, stored once)."""
        cursor = self.cursor(account=account, kind=kind)
        while not cursor.done:
            window_end = min(cursor.window_start + WINDOW, self.run.until)
            page = stripe_api.object_list_page(
                kind=kind,
                stripe_account=account or None,
                created_gte=_ts(cursor.window_start),
                created_lt=_ts(window_end),
                starting_after=cursor.starting_after,
                limit=PAGE_SIZE,
            )
            objects = [stripe_api.plain(item) for item in page.data]
            handle(account, objects)
            self.run.pages_read += 1
            self.run.objects_read += len(objects)
            self.run.save(update_fields=["pages_read", "objects_read"])
            if page.has_more:
                cursor.starting_after = objects[-1]["id"]
            elif window_end < self.run.until:
                cursor.window_start, cursor.starting_after = window_end, ""
            else:
                cursor.done = True
            cursor.save()

    def once(self, *, account: str, kind: str, check: Callable[[str], None]) -> None:
        cursor = self.cursor(account=account, kind=kind)
        if not cursor.done:
            check(account)
            cursor.done = True
            cursor.save(update_fields=["done"])

    def differ(
        self,
        kind: str,
        *,
        stripe_object_id: str,
        message: str,
        account: str = "",
        order: Order | None = None,
        ours: dict | None = None,
        stripe: dict | None = None,
        fix: str = Fix.NONE,
        created=None,
    ) -> None:
        try:
            with transaction.atomic():
                Difference.objects.create(
                    run=self.run,
                    kind=kind,
                    stripe_account=account,
                    stripe_object_id=stripe_object_id,
                    stripe_created=_when(created),
                    order=order,
                    message=message[:500],
                    ours=ours or {},
                    stripe=stripe or {},
                    fix=fix,
                )
        except IntegrityError:
            pass  # found before this run was resumed

    # -- PaymentIntents and charges --------------------------------------------------------------

    def payment_intents(self, account: str, intents: list[dict]) -> None:
        self.seen.payment_intents.update(pi["id"] for pi in intents)
        orders = _orders_for(intents)
        for pi in intents:
            order = orders.get(pi["id"])
            if pi.get("status") != "succeeded":
                if order is not None and getattr(order, "payment", None) is not None:
                    self.payment_not_at_stripe(payment=order.payment, pi=pi)
                continue
            if order is None or order.stripe_account_id != account:
                self.differ(
                    K.STRIPE_ONLY_PAYMENT,
                    account=account,
                    stripe_object_id=pi["id"],
                    created=pi.get("created"),
                    message=f"{format_usd(pi['amount'])} paid at Stripe on {account or 'the platform'} "
                    f"({pi['id']}) with no order of that account here.",
                    stripe=_intent_facts(pi),
                )
                continue
            self.payment_compare(account=account, order=order, pi=pi)

    def payment_not_at_stripe(self, *, payment: Payment, pi: dict | None) -> None:
        order = payment.order
        self.differ(
            K.LOCAL_ONLY_PAYMENT,
            account=payment.stripe_account_id,
            order=order,
            stripe_object_id=payment.payment_intent_id,
            created=pi.get("created") if pi else None,
            ours={"status": order.status, "amount": payment.amount_cents},
            stripe={"status": pi.get("status") if pi else "missing"},
            message=f"Order #{order.pk} is paid here ({format_usd(payment.amount_cents)}); at Stripe its "
            f"PaymentIntent {payment.payment_intent_id} is {pi.get('status') if pi else 'not found'}.",
        )

    def payment_compare(self, *, account: str, order: Order, pi: dict) -> None:
        payment = getattr(order, "payment", None)
        facts = _intent_facts(pi)
        if payment is None:
            self.differ(
                K.PAYMENT_MISSED,
                account=account,
                order=order,
                stripe_object_id=pi["id"],
                created=pi.get("created"),
                message=f"Order #{order.pk} is {order.get_status_display().lower()} here, but Stripe took "
                f"{format_usd(pi['amount'])} for it ({pi['id']}): its payment event was never applied.",
                ours={"status": order.status},
                stripe=facts,
                fix=Fix.APPLY_EVENT,
            )
            return
        ours = {
            "amount": payment.amount_cents,
            "currency": payment.currency,
            "application_fee": payment.application_fee_cents,
        }
        checks = (
            (K.AMOUNT_DIFFERS, "amount", pi.get("amount")),
            (K.CURRENCY_DIFFERS, "currency", pi.get("currency")),
            (K.FEE_DIFFERS, "application_fee", pi.get("application_fee_amount") or 0),
        )
        for kind, name, theirs in checks:
            if ours[name] != theirs:
                self.differ(
                    kind,
                    account=account,
                    order=order,
                    stripe_object_id=pi["id"],
                    created=pi.get("created"),
                    message=f"Order #{order.pk}: {name.replace('_', ' ')} is {ours[name]} here, "
                    f"{theirs} at Stripe ({pi['id']}).",
                    ours=ours,
                    stripe=facts,
                )

    def charges(self, account: str, charges: list[dict]) -> None:
        # A charge made without a PaymentIntent (the old Charges API, or the dashboard) has no
        # PaymentIntent to be reported under; checkout never makes one.
        for charge in charges:
            if charge.get("payment_intent") or not charge.get("paid") or charge.get("status") != "succeeded":
                continue
            self.differ(
                K.STRIPE_ONLY_PAYMENT,
                account=account,
                stripe_object_id=charge["id"],
                created=charge.get("created"),
                message=f"{format_usd(charge['amount'])} charged at Stripe on {account or 'the platform'} "
                f"({charge['id']}, no PaymentIntent) with no order here.",
                stripe={"amount": charge["amount"], "currency": charge.get("currency")},
            )

    # -- refunds --------------------------------------------------------------------------------------

    def refunds(self, account: str, refunds: list[dict]) -> None:
        self.seen.refunds.update(refund["id"] for refund in refunds)
        orders = _orders_by_intent([refund.get("payment_intent") for refund in refunds])
        rows = _refund_rows(refunds)
        for refund in refunds:
            order = orders.get(refund.get("payment_intent") or "")
            if order is None or order.stripe_account_id != account:
                continue  # money with no order here is reported on its PaymentIntent
            self.refund_compare(account=account, order=order, refund=refund, row=rows.get(refund["id"]))

    def refund_compare(self, *, account: str, order: Order, refund: dict, row: Refund | None) -> None:
        theirs = {
            "amount": refund["amount"],
            "status": refund.get("status"),
            "payment_intent": refund.get("payment_intent"),
        }
        if row is None:
            if refund.get("status") in MONEY_REFUND_STATUSES:
                self.differ(
                    K.REFUND_STRIPE_ONLY,
                    account=account,
                    order=order,
                    stripe_object_id=refund["id"],
                    created=refund.get("created"),
                    stripe=theirs,
                    fix=Fix.ADOPT_REFUND,
                    message=f"Order #{order.pk}: a refund of {format_usd(refund['amount'])} ({refund['id']}, "
                    f"{refund.get('status')}) was made at Stripe and is not recorded here.",
                )
            return
        if row.status == refund.get("status") and row.amount_cents == refund["amount"]:
            return
        forward = refund.get("status") in NEXT_STATUSES.get(row.status, set())
        self.differ(
            K.REFUND_STATE,
            account=account,
            order=order,
            stripe_object_id=refund["id"],
            created=refund.get("created"),
            stripe=theirs,
            ours={"amount": row.amount_cents, "status": row.status, "refund_row": row.pk},
            fix=Fix.ADOPT_REFUND if forward and row.amount_cents == refund["amount"] else Fix.NONE,
            message=f"Order #{order.pk}: refund {refund['id']} is {row.status} for "
            f"{format_usd(row.amount_cents)} here, {refund.get('status')} for "
            f"{format_usd(refund['amount'])} at Stripe.",
        )

    # -- disputes -------------------------------------------------------------------------------------

    def disputes(self, account: str, disputes: list[dict]) -> None:
        self.seen.disputes.update(dispute["id"] for dispute in disputes)
        orders = _orders_by_intent([stripe_api.object_id(d.get("payment_intent")) for d in disputes])
        rows = {
            row.stripe_dispute_id: row
            for row in Dispute.objects.filter(stripe_dispute_id__in=[d["id"] for d in disputes])
        }
        for dispute in disputes:
            order = orders.get(stripe_api.object_id(dispute.get("payment_intent")))
            if order is None or order.stripe_account_id != account:
                continue
            self.dispute_compare(account=account, order=order, dispute=dispute, row=rows.get(dispute["id"]))

    def dispute_compare(self, *, account: str, order: Order, dispute: dict, row: Dispute | None) -> None:
        theirs = {
            "amount": dispute["amount"],
            "status": dispute.get("status"),
            "reason": dispute.get("reason"),
        }
        if row is None:
            self.differ(
                K.DISPUTE_STRIPE_ONLY,
                account=account,
                order=order,
                stripe_object_id=dispute["id"],
                created=dispute.get("created"),
                stripe=theirs,
                fix=Fix.APPLY_EVENT,
                message=f"Order #{order.pk}: Stripe has a dispute of {format_usd(dispute['amount'])} "
                f"({dispute['id']}, {dispute.get('status')}) that is not recorded here.",
            )
        elif row.status != dispute.get("status") or row.amount_cents != dispute["amount"]:
            self.differ(
                K.DISPUTE_STATE,
                account=account,
                order=order,
                stripe_object_id=dispute["id"],
                created=dispute.get("created"),
                stripe=theirs,
                fix=Fix.APPLY_EVENT,
                ours={"amount": row.amount_cents, "status": row.status},
                message=f"Order #{order.pk}: dispute {dispute['id']} is {row.status} here, "
                f"{dispute.get('status')} at Stripe.",
            )

    # -- the platform's fees -------------------------------------------------------------------------

    def fees(self, account: str, fees: list[dict]) -> None:
        scope = set(self.accounts)
        fees = [fee for fee in fees if stripe_api.object_id(fee.get("account")) in scope]
        self.seen.fee_charges.update(stripe_api.object_id(fee.get("charge")) for fee in fees)
        payments = {
            payment.charge_id: payment
            for payment in Payment.objects.select_related("order").filter(
                charge_id__in=[stripe_api.object_id(fee.get("charge")) for fee in fees]
            )
        }
        unpaid = self.not_paid_at_stripe([payment.order_id for payment in payments.values()])
        for fee in fees:
            payment = payments.get(stripe_api.object_id(fee.get("charge")))
            if payment is not None and payment.order_id not in unpaid:
                self.fee_compare(payment=payment, fee=fee)

    def not_paid_at_stripe(self, order_ids: list[int]) -> set[int]:
        """Orders this run found paid here only: no payment at Stripe, so no fee either, and one
        difference says so."""
        return set(
            self.run.differences.filter(kind=K.LOCAL_ONLY_PAYMENT, order_id__in=order_ids).values_list(
                "order_id", flat=True
            )
        )

    def fee_compare(self, *, payment: Payment, fee: dict | None) -> None:
        order, account = payment.order, payment.stripe_account_id
        if fee is None or fee["amount"] < payment.application_fee_cents:
            received = fee["amount"] if fee else 0
            self.differ(
                K.FEE_NOT_RECEIVED,
                account=account,
                order=order,
                stripe_object_id=fee["id"] if fee else payment.charge_id,
                created=fee.get("created") if fee else None,
                ours={"application_fee": payment.application_fee_cents},
                stripe={"received": received},
                message=f"Order #{order.pk}: the platform fee is "
                f"{format_usd(payment.application_fee_cents)}; Stripe shows {format_usd(received)} "
                f"received on charge {payment.charge_id}.",
            )
            return
        if fee["amount"] != payment.application_fee_cents:
            self.differ(
                K.FEE_DIFFERS,
                account=account,
                order=order,
                stripe_object_id=fee["id"],
                created=fee.get("created"),
                ours={"application_fee": payment.application_fee_cents},
                stripe={"amount": fee["amount"]},
                message=f"Order #{order.pk}: the platform fee is {format_usd(payment.application_fee_cents)} "
                f"here, {format_usd(fee['amount'])} at Stripe ({fee['id']}).",
            )
        due = _fee_due_back(payment=payment, fee_cents=fee["amount"])
        given = int(fee.get("amount_refunded") or 0)
        if given == due or self.run.differences.filter(order=order, kind__in=REFUND_KINDS).exists():
            return  # in line, or out of line because of a refund already reported
        refunds = _fee_refunds(fee)
        theirs = {
            "amount": fee["amount"],
            "amount_refunded": given,
            "fee_refunds": [r["id"] for r in refunds],
        }
        if given < due:
            kind = K.FEE_NOT_RETURNED
            message = (
                f"Order #{order.pk}: our refunds give back {format_usd(due)} of the platform fee; "
                f"Stripe shows {format_usd(given)} given back ({fee['id']})."
            )
        else:
            kind = K.FEE_DIFFERS
            message = (
                f"Order #{order.pk}: Stripe gave back {format_usd(given)} of the platform fee "
                f"({fee['id']}); our refunds account for {format_usd(due)}."
            )
        self.differ(
            kind,
            account=account,
            order=order,
            stripe_object_id=fee["id"],
            created=fee.get("created"),
            ours={"fee_due_back": due},
            stripe=theirs,
            message=message,
        )

    # -- our rows that no list showed -----------------------------------------------------------------

    def period(self) -> dict:
        return {"created_at__gte": self.run.since, "created_at__lt": self.run.until}

    def our_rows(self, account: str) -> None:
        payments = (
            Payment.objects.select_related("order")
            .filter(stripe_account_id=account, **{f"order__{k}": v for k, v in self.period().items()})
            .exclude(payment_intent_id__in=self.seen.payment_intents)
        )
        for payment in payments:
            self.payment_unlisted(payment=payment)
        refunds = (
            Refund.objects.select_related("order")
            .filter(order__stripe_account_id=account, status__in=REFUND_COUNTING_STATUSES, **self.period())
            .exclude(stripe_refund_id__in=self.seen.refunds)
        )
        for row in refunds:
            self.refund_unlisted(row=row)
        disputes = (
            Dispute.objects.select_related("order")
            .filter(stripe_account_id=account, **self.period())
            .exclude(stripe_dispute_id__in=self.seen.disputes)
        )
        for row in disputes:
            self.dispute_unlisted(row=row)

    def payment_unlisted(self, *, payment: Payment) -> None:
        order = payment.order
        try:
            pi = stripe_api.plain(
                stripe_api.payment_intent_fetch(
                    payment_intent_id=payment.payment_intent_id, stripe_account=payment.stripe_account_id
                )
            )
        except stripe_api.StripeRefused as error:
            if error.stripe_code != "resource_missing":
                raise
            pi = None
        if pi is None or pi.get("status") != "succeeded":
            self.payment_not_at_stripe(payment=payment, pi=pi)
            return
        self.payment_compare(account=payment.stripe_account_id, order=order, pi=pi)

    def refund_unlisted(self, *, row: Refund) -> None:
        order = row.order
        ours = {"amount": row.amount_cents, "status": row.status, "refund_row": row.pk}
        if not row.stripe_refund_id:
            if row.status == RefundStatus.SUCCEEDED:
                self.differ(
                    K.REFUND_LOCAL_ONLY,
                    account=order.stripe_account_id,
                    order=order,
                    stripe_object_id=f"refund-row-{row.pk}",
                    ours=ours,
                    message=f"Order #{order.pk}: refund row {row.pk} ({format_usd(row.amount_cents)}) is "
                    "succeeded here with no refund at Stripe.",
                )
            return  # not sent yet: refund_send is still on it
        theirs = {
            r["id"]: r
            for r in map(
                stripe_api.plain,
                stripe_api.refund_list(
                    payment_intent_id=order.payment_intent_id, stripe_account=order.stripe_account_id
                ),
            )
        }
        refund = theirs.get(row.stripe_refund_id)
        if refund is None:
            self.differ(
                K.REFUND_LOCAL_ONLY,
                account=order.stripe_account_id,
                order=order,
                stripe_object_id=row.stripe_refund_id,
                ours=ours,
                message=f"Order #{order.pk}: refund {row.stripe_refund_id} ({format_usd(row.amount_cents)}, "
                f"{row.status}) is not among the payment's refunds at Stripe.",
            )
            return
        self.refund_compare(account=order.stripe_account_id, order=order, refund=refund, row=row)

    def dispute_unlisted(self, *, row: Dispute) -> None:
        try:
            dispute = stripe_api.plain(
                stripe_api.dispute_fetch(
                    dispute_id=row.stripe_dispute_id, stripe_account=row.stripe_account_id
                )
            )
        except stripe_api.StripeRefused as error:
            if error.stripe_code != "resource_missing":
                raise
            self.differ(
                K.DISPUTE_LOCAL_ONLY,
                account=row.stripe_account_id,
                order=row.order,
                stripe_object_id=row.stripe_dispute_id,
                ours={"status": row.status, "amount": row.amount_cents},
                message=f"Order #{row.order_id}: dispute {row.stripe_dispute_id} ({row.status}) is "
                "recorded here and unknown to Stripe.",
            )
            return
        self.dispute_compare(account=row.stripe_account_id, order=row.order, dispute=dispute, row=row)

    def our_fees(self, account: str) -> None:
        payments = (
            Payment.objects.select_related("order")
            .filter(
                stripe_account_id__in=self.accounts,
                application_fee_cents__gt=0,
                **{f"order__{k}": v for k, v in self.period().items()},
            )
            .exclude(charge_id="")
            .exclude(charge_id__in=self.seen.fee_charges)
        )
        payments = list(payments)
        unpaid = self.not_paid_at_stripe([payment.order_id for payment in payments])
        for payment in payments:
            if payment.order_id in unpaid:
                continue
            fee = stripe_api.application_fee_for_charge(charge_id=payment.charge_id)
            self.fee_compare(payment=payment, fee=stripe_api.plain(fee) if fee is not None else None)


def _intent_facts(pi: dict) -> dict:
    return {
        "amount": pi.get("amount"),
        "currency": pi.get("currency"),
        "application_fee": pi.get("application_fee_amount") or 0,
        "status": pi.get("status"),
        "order_id": (pi.get("metadata") or {}).get("order_id", ""),
    }


def _orders_by_intent(intent_ids: Iterable[str | None]) -> dict[str, Order]:
    ids = {i for i in intent_ids if i}
    return {
        order.payment_intent_id: order
        for order in Order.objects.select_related("payment").filter(payment_intent_id__in=ids)
    }


def _orders_for(intents: list[dict]) -> dict[str, Order]:
    """Our order of each PaymentIntent: by its id, or (before checkout stored the id) by the
    `order_id` in its metadata, as payments' event reader links them."""
    orders = _orders_by_intent(pi["id"] for pi in intents)
    by_metadata = {
        int(order_id): pi["id"]
        for pi in intents
        if pi["id"] not in orders
        and str(order_id := (pi.get("metadata") or {}).get("order_id") or "").isdigit()
    }
    for order in Order.objects.select_related("payment").filter(pk__in=by_metadata, payment_intent_id=""):
        orders[by_metadata[order.pk]] = order
    return orders


def _refund_rows(refunds: list[dict]) -> dict[str, Refund]:
    """Our row of each refund: by Stripe's id, or by the row id our refunds send in metadata."""
    rows = {
        row.stripe_refund_id: row
        for row in Refund.objects.filter(stripe_refund_id__in=[refund["id"] for refund in refunds])
    }
    by_metadata = {
        int(row_id): refund["id"]
        for refund in refunds
        if refund["id"] not in rows
        and str(row_id := (refund.get("metadata") or {}).get("refund_row_id") or "").isdigit()
    }
    for row in Refund.objects.filter(pk__in=by_metadata, stripe_refund_id=""):
        rows[by_metadata[row.pk]] = row
    return rows


def _fee_due_back(*, payment: Payment, fee_cents: int) -> int:
    """What `refund_application_fee=true` gave back of the fee for our refunds that did not fail,
    one after the other as they were made (marketplace.pricing.fee_refund_cents)."""
    refunded = due = 0
    for row in payment.order.refunds.filter(status__in=REFUND_COUNTING_STATUSES).order_by("created_at", "pk"):
        due += fee_refund_cents(
            amount_cents=payment.amount_cents,
            fee_cents=fee_cents,
            refund_cents=row.amount_cents,
            refunded_before_cents=refunded,
            fee_refunded_before_cents=due,
        )
        refunded += row.amount_cents
    return due


def _fee_refunds(fee: dict) -> list[dict]:
    """The fee's refunds: the 10 it carries, or all of them through the list when it has more."""
    carried = fee.get("refunds") or {}
    if carried.get("has_more"):
        return [stripe_api.plain(refund) for refund in stripe_api.fee_refund_list(fee_id=fee["id"])]
    return list(carried.get("data") or [])
