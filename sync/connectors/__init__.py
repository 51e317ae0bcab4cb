"""One module per external system (Salesforce, Stripe, NetSuite, the embedded ledger as an ERP):
the only place a vendor SDK or wire format is spoken. Each implements a protocol of `sync.ports`
and turns vendor errors into `TransientError` or `PermanentError`.

May import: the shared vocabulary and `sync.ledger` (the embedded ERP it adapts).
"""
