"""Read-only JSON: /api/listings/, /marketplace/payment-compatibility/, /marketplace/my-orders/.

Errors come out in the house shape {"error": {"code", "message"}} through
stubcollector.errors.api_exception_handler.
"""

from rest_framework import generics, permissions
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.forms import ListingFilterForm
from marketplace.selectors import listing_get_public, listing_search, orders_for_user
from marketplace.serializers import (
    ListingSerializer,
    OrderSummarySerializer,
    PaymentCompatibilityQuery,
    payment_compatibility_for,
    payment_compatibility_global,
)
from marketplace.services import listing_purchase_blocker

MY_ORDERS_LIMIT = 100


class ListingPagination(PageNumberPagination):
    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        # isascii(): "²".isdigit() is True but int("²") raises.
        is_page_number = raw is not None and raw.isascii() and raw.isdigit() and int(raw) >= 1
        if raw is not None and raw != "last" and not is_page_number:
            raise ValidationError({"page": ["A page number is a whole number from 1."]})
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and not (size.isascii() and size.isdigit()):
            raise ValidationError({"page_size": ["A page size is a whole number."]})
        return super().paginate_queryset(queryset, request, view)


class ListingList(generics.ListAPIView):
    """The browse page's listings, with the same filters (see ListingFilterForm)."""

    serializer_class = ListingSerializer
    pagination_class = ListingPagination

    def get_queryset(self):
        form = ListingFilterForm(data=self.request.query_params)
        if not form.is_valid():
            raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
        return listing_search(filters=form.filters())


class ListingDetail(APIView):
    def get(self, request, pk):
        listing = listing_get_public(listing_id=pk)
        return Response(ListingSerializer(listing, context={"request": request}).data)


class PaymentCompatibility(APIView):
    """Global payment facts; with ?listing_id=N also whether that listing can be bought now."""

    def get(self, request):
        payload = payment_compatibility_global()
        if "listing_id" in request.query_params:  # present but empty is a bad id, not "no id"
            query = PaymentCompatibilityQuery(data=request.query_params)
            query.is_valid(raise_exception=True)
            listing = listing_get_public(listing_id=query.validated_data["listing_id"])
            blocker = listing_purchase_blocker(listing=listing, buyer=request.user)
            payload.update(payment_compatibility_for(listing, blocker))
        return Response(payload)


class MyOrders(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        orders = orders_for_user(user=request.user)
        return Response(
            {
                side: OrderSummarySerializer(
                    queryset[:MY_ORDERS_LIMIT], many=True, context={"side": side}
                ).data
                for side, queryset in orders.items()
            }
        )
