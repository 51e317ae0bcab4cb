"""The domain and the engine of contract-to-cash, free of Slack and of any one vendor.

The shared vocabulary sits at the top: `model` (the canonical contract, invoices, payments),
`money` (integer minor units with a currency), `dates`, `errors` (transient or permanent) and
`ports` (the protocols each external system implements, with `ports_books`, what the audit
reads through them). Each domain package below says in its own docstring what it owns and what
it may import; `tests/unit/test_layout.py` enforces it.
"""
