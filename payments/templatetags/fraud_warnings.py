"""{% seller_fraud_warnings user as warnings %}: the early fraud warnings still to act on, for the
seller's dashboard (one query), so the dashboard view does not have to know about them."""

from django import template

from payments.models import EarlyFraudWarning

register = template.Library()


@register.simple_tag
def seller_fraud_warnings(user):
    return list(
        EarlyFraudWarning.objects.filter(order__seller=user, actionable=True)
        .select_related("order__listing__stub").order_by("-stripe_created", "-pk")
    )
