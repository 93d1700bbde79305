"""Register our two webhook endpoints with Stripe (`manage.py stripe_setup_webhooks`).

The Connect endpoint (`/payments/webhook/connect/`, `connect=true`: events of the sellers'
accounts, where direct charges, refunds, disputes and the accounts themselves live) listens to
exactly the event types we handle: `payments.services.webhooks.HANDLERS` and the
deauthorization handled before dj-stripe (`webhook_guards.DEAUTHORIZED`). The platform endpoint
(`/payments/webhook/`) only gets the application-fee events, stored for the record
(docs/operations.md, "Which events to enable on which endpoint").

Idempotent: an endpoint already registered for the URL (and kind) is kept, with its signing
secret; only its event list is brought up to date
(and it is re-enabled). Stripe shows a secret only when it creates the endpoint, so a secret is
printed once, on the run that created it.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from core.errors import DomainError
from payments import stripe_api
from payments.services.webhook_guards import DEAUTHORIZED
from payments.services.webhooks import CONNECT, ENDPOINTS, HANDLERS, PLATFORM

SECRET_SETTINGS = {PLATFORM: "STRIPE_WEBHOOK_SECRET", CONNECT: "STRIPE_CONNECT_WEBHOOK_SECRET"}


class InvalidWebhookUrl(DomainError):
    code = "invalid_webhook_url"
    status = 400
    message = "Give the site's public https:// address, e.g. https://stubs.example.com."


@dataclass
class EndpointSetup:
    kind: str  # PLATFORM or CONNECT
    url: str
    endpoint_id: str
    action: str  # "created", "updated", "unchanged"
    secret: str = ""  # only when created

    @property
    def secret_setting(self) -> str:
        return SECRET_SETTINGS[self.kind]


PLATFORM_EVENTS = ("application_fee.created", "application_fee.refunded")


def webhook_event_types(kind: str = CONNECT) -> list[str]:
    if kind == PLATFORM:
        return sorted(PLATFORM_EVENTS)

    return sorted({*HANDLERS, DEAUTHORIZED})


def _endpoint_urls(site_url: str) -> dict[str, str]:
    parts = urlsplit(site_url.strip())
    local = parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
        raise InvalidWebhookUrl()
    if parts.query or parts.fragment:
        raise InvalidWebhookUrl()
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return {kind: base + ENDPOINTS[kind]["path"] for kind in (PLATFORM, CONNECT)}


def webhooks_setup(*, site_url: str) -> list[EndpointSetup]:
    """Create or update the platform and the Connect endpoint for `site_url`."""
    urls = _endpoint_urls(site_url)
    existing = [e for e in stripe_api.webhook_endpoint_list() if not getattr(e, "deleted", False)]
    done = []
    for kind, url in urls.items():
        connect = kind == CONNECT
        events = webhook_event_types(kind)
        # Stripe marks a Connect endpoint with the platform's application id.
        match = next(
            (e for e in existing if e.url == url and bool(getattr(e, "application", None)) == connect), None
        )
        if match is None:
            created = stripe_api.webhook_endpoint_create(
                url=url, enabled_events=events, connect=connect,
                description=f"Stub Collector {kind} events",
            )
            done.append(EndpointSetup(kind, url, created.id, "created", secret=created.secret))
        elif sorted(match.enabled_events) != events or match.status != "enabled":
            stripe_api.webhook_endpoint_update(endpoint_id=match.id, enabled_events=events)
            done.append(EndpointSetup(kind, url, match.id, "updated"))
        else:
            done.append(EndpointSetup(kind, url, match.id, "unchanged"))
    return done
