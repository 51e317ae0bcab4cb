"""The contract: a closed-won deal read as the CRM holds it, validated, normalized into a
versioned canonical contract (one obligation per deliverable), held by policy for an approval
when it is non-standard, and compared with its previous version when it changes (amendments).

May import: the shared vocabulary (`sync.model`, `sync.money`, `sync.dates`, `sync.errors`,
`sync.ports`). Pure functions: no storage, no vendor code.
"""
