"""payments' reads, one module a subject: orders (lists, the order page's actions and timeline),
dashboard (the seller's sales and chart), money (what each sale nets), sold_prices (what
comparable stubs sold for) and staff (the admin index's to-do list and order search)."""
