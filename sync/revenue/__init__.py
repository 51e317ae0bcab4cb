"""Revenue recognition, independent of any ERP: the recognition schedule of each performance
obligation. ERPs only receive postings (the embedded ledger stores and posts the schedule in
`sync.ledger.recognition`).

May import: the shared vocabulary (`sync.model`, `sync.money`, `sync.dates`, `sync.errors`,
`sync.ports`). Nothing else in `sync`, no storage, no vendor code.
"""
