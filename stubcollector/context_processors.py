from django.conf import settings


def site(request):
    return {"STRIPE_JS_URL": settings.STRIPE_JS_URL, "SITE_NAME": "Stub Collector"}
