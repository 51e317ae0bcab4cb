"""Cash: what the ERP must record when money moves in the billing system (payments applied to
invoices; fees, refunds, disputes and payouts from the billing balance, see docs/cash.md),
computed without knowing which ERP receives it.

May import: the shared vocabulary, `sync.revenue` and `storage`.
"""
