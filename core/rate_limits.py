"""Per-user limits on the routes that change state, one setting each (docs/operations.md).

`post_rate_limit("SETTING")` on a view (or `method_decorator` of it on an admin view) counts
its POSTs per user (per address for an anonymous caller) in the shared cache and answers 429
(core.views.rate_limited) past the setting's rate, e.g. "10/m". The view is marked
with the setting's name (`post_rate_limit`), which security/test_rate_limits.py looks for on
every route that accepts a POST. `post_rate_limit_check` is the same count for code that is not
a view of its own (an admin action).
"""

from functools import wraps

from django.conf import settings
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited


def post_rate_limit_check(request, *, group: str, setting: str) -> None:
    """Count this POST in `group`; raise Ratelimited past settings.<setting>."""
    if request.method == "POST" and is_ratelimited(
        request, group=group, key="user_or_ip", rate=getattr(settings, setting), method="POST",
        increment=True,
    ):
        raise Ratelimited()


def post_rate_limit(setting: str, *, group: str | None = None):
    def decorator(view):
        name = group or f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def limited(request, *args, **kwargs):
            post_rate_limit_check(request, group=name, setting=setting)
            return view(request, *args, **kwargs)

        limited.post_rate_limit = setting
        return limited

    return decorator
