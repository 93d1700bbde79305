"""{% load disputes %}: the dispute parts of payments' pages, loaded by name in their templates so
payments never imports the disputes app (docs/architecture.md, "Layout").

{% seller_open_disputes user as disputes %}: the seller's open disputes for the dashboard (one
query); {% dispute_evidence_files dispute as files %}: the documents of the seller's dispute
panel on the order page.
"""

from django import template

from disputes.files import LIMITS_TEXT, dispute_evidence_files_current
from disputes.models import DISPUTE_OPEN, Dispute, EvidenceFileKind

register = template.Library()


@register.simple_tag
def seller_open_disputes(user):
    return list(
        Dispute.objects.filter(order__seller=user, status__in=DISPUTE_OPEN)
        .select_related("order__listing__stub").order_by("evidence_due_by", "pk")
    )


@register.simple_tag
def dispute_evidence_files(dispute):
    """{% dispute_evidence_files dispute as files %}: the documents the evidence names now, and
    the kinds a seller may attach, for the seller's dispute panel."""
    return {"current": dispute_evidence_files_current(dispute=dispute), "kinds": EvidenceFileKind.choices,
            "limits": LIMITS_TEXT}
