"""The parameters Stripe accepts on each write endpoint the sandbox serves.

Stripe answers an unknown parameter with 400 "Received unknown parameter: x"; so does the
sandbox, so a misspelt parameter fails in tests as it would in production. The lists are
Stripe's own (taken from stripe-python 15.6.2's request parameter types); the sandbox
accepts all of them even where it ignores the value (see docs/sandbox.md). ``expand`` is
always allowed, and ``client_secret`` where Stripe.js sends it.
"""

KNOWN_PARAMS: dict[str, frozenset[str]] = {
    "POST /v1/accounts": frozenset({
        "account_token", "business_profile", "business_type", "capabilities", "company",
        "controller", "country", "default_currency", "documents", "email", "external_account",
        "groups", "individual", "metadata", "settings", "tos_acceptance", "type",
    }),
    "POST /v1/accounts/:id": frozenset({
        "account_token", "business_profile", "business_type", "capabilities", "company",
        "default_currency", "documents", "email", "external_account", "groups", "individual",
        "metadata", "settings", "tos_acceptance",
    }),
    "POST /v1/account_links": frozenset({
        "account", "collect", "collection_options", "refresh_url", "return_url", "type",
    }),
    "POST /v1/accounts/:id/login_links": frozenset(),
    "POST /v1/payment_intents": frozenset({
        "allowed_payment_method_types", "amount", "amount_details", "application_fee_amount",
        "automatic_payment_methods", "capture_method", "confirm", "confirmation_method",
        "confirmation_token", "currency", "customer", "customer_account", "description",
        "error_on_requires_action", "excluded_payment_method_types", "hooks", "mandate",
        "mandate_data", "metadata", "off_session", "on_behalf_of", "payment_details",
        "payment_method", "payment_method_configuration", "payment_method_data",
        "payment_method_options", "payment_method_types", "radar_options", "receipt_email",
        "return_url", "setup_future_usage", "shipping", "statement_descriptor",
        "statement_descriptor_suffix", "transfer_data", "transfer_group", "use_stripe_sdk",
    }),
    "POST /v1/payment_intents/:id": frozenset({
        "allowed_payment_method_types", "amount", "amount_details", "application_fee_amount",
        "capture_method", "currency", "customer", "customer_account", "description",
        "excluded_payment_method_types", "hooks", "metadata", "payment_details",
        "payment_method", "payment_method_configuration", "payment_method_data",
        "payment_method_options", "payment_method_types", "receipt_email", "setup_future_usage",
        "shipping", "statement_descriptor", "statement_descriptor_suffix", "transfer_data",
        "transfer_group",
    }),
    "POST /v1/payment_intents/:id/confirm": frozenset({
        "allowed_payment_method_types", "amount_details", "amount_to_confirm", "capture_method",
        "client_secret", "confirmation_token", "error_on_requires_action",
        "excluded_payment_method_types", "hooks", "mandate", "mandate_data", "off_session",
        "payment_details", "payment_method", "payment_method_data", "payment_method_options",
        "payment_method_types", "radar_options", "receipt_email", "return_url",
        "setup_future_usage", "shipping", "use_stripe_sdk",
    }),
    "POST /v1/payment_intents/:id/cancel": frozenset({
        "cancellation_reason",
    }),
    "POST /v1/payment_methods": frozenset({
        "acss_debit", "affirm", "afterpay_clearpay", "alipay", "allow_redisplay", "alma",
        "amazon_pay", "au_becs_debit", "bacs_debit", "bancontact", "billie", "billing_details",
        "bizum", "blik", "boleto", "card", "cashapp", "crypto", "custom", "customer",
        "customer_balance", "eps", "fpx", "giropay", "grabpay", "ideal", "interac_present",
        "kakao_pay", "klarna", "konbini", "kr_card", "link", "mb_way", "metadata", "mobilepay",
        "multibanco", "naver_pay", "nz_bank_account", "oxxo", "p24", "pay_by_bank", "payco",
        "payment_method", "paynow", "paypal", "payto", "pix", "promptpay", "radar_options",
        "revolut_pay", "samsung_pay", "satispay", "scalapay", "sepa_debit", "sofort", "sunbit",
        "swish", "twint", "type", "upi", "us_bank_account", "wechat_pay", "zip",
    }),
    "POST /v1/refunds": frozenset({
        "amount", "charge", "currency", "customer", "instructions_email", "metadata", "origin",
        "payment_intent", "reason", "refund_application_fee", "reverse_transfer",
    }),
    "POST /v1/refunds/:id": frozenset({
        "metadata",
    }),
    "POST /v1/disputes/:id": frozenset({
        "evidence", "metadata", "submit",
    }),
    "POST /v1/disputes/:id/close": frozenset(),
    "POST /v1/files": frozenset({
        "file", "file_link_data", "purpose",
    }),
    "POST /v1/application_fees/:id/refunds": frozenset({
        "amount", "metadata",
    }),
    "POST /v1/webhook_endpoints": frozenset({
        "api_version", "connect", "description", "enabled_events", "metadata", "url",
    }),
    "POST /v1/webhook_endpoints/:id": frozenset({
        "description", "disabled", "enabled_events", "metadata", "url",
    }),
}
