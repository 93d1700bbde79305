"""{% seller_open_disputes user as disputes %}: the seller's open disputes for the dashboard
(one query), so the dashboard view does not have to know about disputes; likewise
{% seller_fraud_warnings user as warnings %}: the early fraud warnings still to act on."""

from django import template

from payments.models import Dispute, DisputeStatus, EarlyFraudWarning

register = template.Library()

OPEN = (DisputeStatus.WARNING_NEEDS_RESPONSE, DisputeStatus.WARNING_UNDER_REVIEW,
        DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)


@register.simple_tag
def seller_open_disputes(user):
    return list(
        Dispute.objects.filter(order__seller=user, status__in=OPEN)
        .select_related("order__listing__stub").order_by("evidence_due_by", "pk")
    )


@register.simple_tag
def seller_fraud_warnings(user):
    return list(
        EarlyFraudWarning.objects.filter(order__seller=user, actionable=True)
        .select_related("order__listing__stub").order_by("-stripe_created", "-pk")
    )


@register.simple_tag
def dispute_evidence_files(dispute):
    """{% dispute_evidence_files dispute as files %}: the documents the evidence names now, and
    the kinds a seller may attach, for the seller's dispute panel."""
    from payments.models import EvidenceFileKind
    from payments.services.dispute_files import LIMITS_TEXT, dispute_evidence_files_current

    return {"current": dispute_evidence_files_current(dispute=dispute), "kinds": EvidenceFileKind.choices,
            "limits": LIMITS_TEXT}
