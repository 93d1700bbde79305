"""Read-only JSON: /api/listings/, /marketplace/payment-compatibility/ (the caller's orders,
/marketplace/my-orders/, are payments': payments/views/my_orders.py).

Errors come out in the house shape {"error": {"code", "message"}} through
core.errors.api_exception_handler.
"""

from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from marketplace.forms import ListingFilterForm
from marketplace.page_cache import page_shows
from marketplace.selectors import (
    listing_cursor_is_valid,
    listing_get_public,
    listing_page,
    listing_search,
)
from marketplace.serializers import (
    ListingSerializer,
    PaymentCompatibilityQuery,
    payment_compatibility_for,
    payment_compatibility_global,
)
from marketplace.services import listing_purchase_blocker


class ListingPagination(BasePagination):
    """Browse's paging (marketplace.selectors.listing_page) in DRF's response shape.

    No exact COUNT(*) over every match and no deep OFFSET, as on the browse page: `count` is
    exact up to COUNT_CAP and then says COUNT_CAP with `count_is_capped: true`; page numbers reach
    that far, and from the last numbered page on `next` carries a keyset cursor (`after=`), so
    any depth costs what the first page costs. A cursor page has `count: null` and no `previous`.
    `page=last` is the last numbered page; a page number past it is a 404.
    """

    page_size, max_page_size = 24, 100

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        raw_page, raw_size, after = params.get("page"), params.get("page_size"), params.get("after")
        # isascii(): "²".isdigit() is True but int("²") raises.
        is_page_number = bool(raw_page and raw_page.isascii() and raw_page.isdigit() and int(raw_page) >= 1)
        if raw_page is not None and raw_page != "last" and not is_page_number:
            raise ValidationError({"page": ["A page number is a whole number from 1."]})
        if raw_size is not None and not (raw_size.isascii() and raw_size.isdigit()):
            raise ValidationError({"page_size": ["A page size is a whole number."]})
        sort = view.filters.sort
        if after is not None and not listing_cursor_is_valid(cursor=after, sort=sort):
            raise ValidationError({"after": ["Use the `next` link of the page before."]})
        per_page = min(int(raw_size or 0), self.max_page_size) or self.page_size
        self.page = listing_page(queryset, sort=sort, per_page=per_page, page=raw_page, after=after)
        if is_page_number and self.page.number is not None and int(raw_page) > self.page.num_pages:
            raise NotFound("Invalid page.")
        self.request = request
        page_shows(request, listings=self.page.listings)  # what the anonymous page cache checks
        return self.page.listings

    def _link(self, **changes) -> str:
        url = self.request.build_absolute_uri()
        url = remove_query_param(remove_query_param(url, "page"), "after")
        for name, value in changes.items():
            url = replace_query_param(url, name, value)
        return url

    def get_paginated_response(self, data):
        page = self.page
        next_link = None
        if page.next_number:
            next_link = self._link(page=page.next_number)
        elif page.next_cursor:
            next_link = self._link(after=page.next_cursor)
        previous_link = None
        if page.previous_number == 1:
            previous_link = self._link()
        elif page.previous_number:
            previous_link = self._link(page=page.previous_number)
        return Response({"count": page.count, "count_is_capped": page.count_capped,
                         "next": next_link, "previous": previous_link, "results": data})


class ListingList(generics.ListAPIView):
    """The browse page's listings, with the same filters (see ListingFilterForm)."""

    serializer_class = ListingSerializer
    pagination_class = ListingPagination

    def get_queryset(self):
        form = ListingFilterForm(data=self.request.query_params)
        if not form.is_valid():
            raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
        self.filters = form.filters()
        return listing_search(filters=self.filters)


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
            payload.update(payment_compatibility_for(listing, blocker, viewer=request.user))
        return Response(payload)

