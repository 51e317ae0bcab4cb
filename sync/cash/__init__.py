"""Cash: what the ERP must record when money moves in the billing system (payments applied to
invoices today; refunds, disputes, payouts and bank matching as they arrive), computed without
knowing which ERP receives it.

May import: the shared vocabulary, `sync.revenue` and `storage`.
"""
