"""The state wing: what happened. The SQLite state file and the audit log beside it.

- `schema`: the tables (sqlmodel), the status enums they hold (numbers, orders), and the
  records callers get instead of rows.
- `store`: the only module that touches the database: the plan stored in one transaction, the
  exactly-once protocol's transitions (intent before POST, order id before the first poll,
  per-number outcomes and the chained order in one transaction), the lease, counts, reports.
- `audit`: the append-only JSON Lines log of every API exchange (a queued writer thread).

May import `orchestrator.api`, `orchestrator.plan` and `orchestrator.errors`; never the cutover,
cli, sandbox or v1 wings.
"""
