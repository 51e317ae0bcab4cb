"""The durable step engine: intake from the CRM, the work queue's steps (bill in the billing
system, post to the ERP, write back to the CRM), billing events and webhooks that keep the invoice
mirror current, exception records, cluster-wide job leases and telemetry.

May import: the shared vocabulary, `sync.contracts`, `sync.revenue` and `storage`. It reaches
external systems only through the ports a `Runtime` carries, never a connector directly.
"""
