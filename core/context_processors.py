from django.conf import settings

from core.site import SITE_NAME


def site(request):
    return {
        "STRIPE_JS_URL": settings.STRIPE_JS_URL,
        "STRIPE_JS_ON_EVERY_PAGE": settings.STRIPE_JS_ON_EVERY_PAGE,
        "SITE_NAME": SITE_NAME,
        "CHECKOUT_ENABLED": settings.CHECKOUT_ENABLED,
    }
