"""/marketplace/my-orders/: the caller's purchases and sales as JSON (the URL contract keeps its
path from when the listings API served it; docs/architecture.md, "URLs").

Errors come out in the house shape {"error": {"code", "message"}} through the DRF exception
handler named in settings.REST_FRAMEWORK.
"""

from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.selectors.orders import orders_bought, orders_sold

MY_ORDERS_LIMIT = 100


class OrderSummarySerializer(serializers.Serializer):
    """One order as the caller sees it; `counterpart` is the other party's username. The platform
    fee shows on sales only: it is between the seller and us."""

    def to_representation(self, order) -> dict:
        purchase = self.context.get("side") == "purchases"
        counterpart = order.seller if purchase else order.buyer
        summary = {
            "id": order.pk,
            "status": order.status,
            "listing_id": order.listing_id,
            "event_name": order.listing.stub.event_name,
            "amount_cents": order.amount_cents,
            "currency": order.currency,
            "created_at": _iso(order.created_at),
            "paid_at": _iso(order.paid_at),
            "shipped_at": _iso(order.shipped_at),
            "tracking_number": order.tracking_number,
            "counterpart": counterpart.username,
        }
        if not purchase:
            summary["application_fee_cents"] = order.application_fee_cents
        return summary


def _iso(value) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


class MyOrders(APIView):
    """Only checkouts that took money, as on the order pages (payments.selectors.orders); two queries
    whatever their number."""

    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        orders = {"purchases": orders_bought(user=request.user), "sales": orders_sold(user=request.user)}
        return Response(
            {
                side: OrderSummarySerializer(
                    queryset[:MY_ORDERS_LIMIT], many=True, context={"side": side}
                ).data
                for side, queryset in orders.items()
            }
        )
