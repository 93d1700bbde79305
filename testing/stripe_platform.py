"""dj-stripe's rows for the platform account, there before every test as in a deployment.

dj-stripe finds the account that owns an object or event through the API key: on the first
event it stores the key (APIKey), asks Stripe whose key it is and stores that Account, and
from then on reads both rows. A test's rows are rolled back after it, so every test that took
a webhook made them again: a Stripe call and a dozen queries, ~3 % of make test's CPU.

Every sandbox of stripe_sandbox.pytest_plugin in a process has the same platform account, so
these rows are made once, the way dj-stripe makes them, whenever the tables are made or
emptied: Django sends post_migrate after creating the test database and after a transactional
test's flush (as it does to put the content types back). A test still finds no row for any
other key (the live-mode key, a connected account) and makes it itself.
"""

from django.db.models.signals import post_migrate


def platform_rows_create() -> None:
    """The test key's APIKey and the platform's Account, made by dj-stripe from what the
    sandbox's platform account says (Account.get_or_retrieve_for_api_key, as on an event)."""
    from djstripe.models import Account
    from djstripe.settings import djstripe_settings

    from stripe_sandbox.pytest_plugin import SANDBOX_API_KEY, SANDBOX_PUBLISHABLE_KEY, _in_process

    api_key = djstripe_settings.get_default_api_key(livemode=False)
    if api_key != SANDBOX_API_KEY:
        return  # a run against another key (an environment's) has no sandbox platform to match
    sandboxes = _in_process(livemode=False, api_key=api_key, publishable_key=SANDBOX_PUBLISHABLE_KEY)
    next(sandboxes)
    try:
        Account.get_or_retrieve_for_api_key(api_key)
    finally:
        sandboxes.close()


def _tables_made_or_emptied(sender, app_config, **kwargs):
    if app_config.label == "djstripe":
        platform_rows_create()


post_migrate.connect(_tables_made_or_emptied, dispatch_uid="testing_stripe_platform")
