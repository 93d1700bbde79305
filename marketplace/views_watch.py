"""Watchlist, saved searches and the signed unsubscribe page. Thin: parse, call
marketplace.watchlist, answer (a redirect back for forms, JSON when asked)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.middleware import asks_for_json
from core.rate_limits import post_rate_limit
from marketplace.models import ListingStatus, SavedSearch, Watch
from marketplace.watchlist import (
    saved_search_create,
    saved_search_delete,
    unsubscribe_apply,
    unsubscribe_target,
    watch_add,
    watch_remove,
)


def _back(request, fallback: str):
    """Back to `next` when it is a path on this site; anything else (a name, another host, a
    control character) goes to `fallback`. HttpResponseRedirect, not redirect(): redirect()
    would try a bare word as a view name."""
    target = request.POST.get("next") or ""
    safe = target.startswith("/") and target.isprintable() and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(target if safe else fallback)


@login_required
@require_POST
@post_rate_limit("POST_RATE_PER_USER")
def watch_toggle(request, pk):
    """`watch=1` watches, `watch=0` stops; explicit, so a double click changes nothing twice."""
    wanted = request.POST.get("watch", "1") != "0"
    if wanted:
        watch_add(user=request.user, listing_id=pk)
    else:
        watch_remove(user=request.user, listing_id=pk)
    if asks_for_json(request):
        return JsonResponse({"listing_id": pk, "watching": wanted})
    messages.success(request, "Added to your watchlist." if wanted else "Removed from your watchlist.")
    return _back(request, f"/listings/{pk}/")


@login_required
@require_GET
def watching(request):
    watches = (
        Watch.objects.filter(user=request.user)
        .select_related("listing__stub", "listing__seller")
        .order_by("-created_at", "-id")
    )
    listings = []
    for watch in watches:
        listing = watch.listing
        if listing.status in (ListingStatus.DRAFT, ListingStatus.WITHDRAWN):
            continue
        listing.is_watched = True
        listings.append(listing)
    return render(request, "marketplace/watching.html", {"listings": listings})


@login_required
@require_http_methods(["GET", "POST"])
@post_rate_limit("POST_RATE_PER_USER")
def saved_searches(request):
    if request.method == "POST":
        search = saved_search_create(user=request.user, params=request.POST)
        messages.success(request, f"Saved “{search.name}”. We will email you new matches once a day.")
        return redirect("marketplace:saved_searches")
    searches = SavedSearch.objects.filter(user=request.user).order_by("-created_at", "-id")
    return render(request, "marketplace/saved_searches.html", {"searches": searches})


@login_required
@require_POST
@post_rate_limit("POST_RATE_PER_USER")
def saved_search_delete_view(request, pk):
    saved_search_delete(user=request.user, search_id=pk)
    messages.success(request, "Saved search deleted.")
    return redirect("marketplace:saved_searches")


@csrf_exempt  # the signed token is the authority; mail clients' one-click POST carries no CSRF token
@require_http_methods(["GET", "POST"])
@post_rate_limit("POST_RATE_PER_USER")
def unsubscribe(request, token):
    """GET asks (a mail scanner's visit changes nothing); POST stops the emails. No login."""
    if request.method == "POST":
        target = unsubscribe_apply(token=token)
        done = True
    else:
        target = unsubscribe_target(token=token)
        done = not target.emails_enabled
    what = (
        f"price and sale alerts for “{target.listing.stub.event_name}”" if isinstance(target, Watch)
        else f"the daily email for your saved search “{target.name}”"
    )
    return render(request, "marketplace/unsubscribe.html", {"what": what, "done": done, "token": token})
