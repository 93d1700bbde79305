from payments.models import AuditEvent

# A declined card or a failed 3-D Secure that left the order open for another try
# (payments/services/payment_events.py); the order pages show it in the timeline.
FAILED_TRY_ACTION = "order.payment_failed_try"
_EVENT_ID_LENGTH = AuditEvent._meta.get_field("stripe_event_id").max_length


def audit_record(
    *,
    action: str,
    actor=None,
    order=None,
    subject_user=None,
    from_status: str = "",
    to_status: str = "",
    message: str = "",
    data: dict | None = None,
    stripe_event_id: str = "",
    request=None,
) -> AuditEvent:
    """Append one row to the audit trail. Anonymous actors are stored as no actor."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        order=order,
        subject_user=subject_user,
        from_status=from_status,
        to_status=to_status,
        message=message[:500],
        data=data or {},
        # A signed body may carry any id (junk signed with our secret, a replayed test body): the
        # row is written whole, its id cut to the column, rather than the insert refused.
        stripe_event_id=stripe_event_id[:_EVENT_ID_LENGTH],
        request_id=(request.headers.get("X-Request-Id", "")[:64] if request is not None else ""),
        ip_address=(request.META.get("REMOTE_ADDR") if request is not None else None),
    )
