"""The state wing: what happened. The SQLite state file and the audit log beside it.

- `schema`: the status enums (`NumberStatus`, `OrderState`) and the records callers get
  instead of rows; `tables`: the sqlmodel tables with the CHECK constraints generated from the
  enums, compiled into `ddl` (generated; what `migration` executes, so no command imports
  sqlmodel or SQLAlchemy).
- `store`: `Store`, the one facade callers use on a state file. Behind it, one module per
  concept: `database` (the connection, transactions, meta facts), `migration` (schema version:
  create, upgrade older files in place), `lease` (one run at a time), `stored_plan` (the plan
  stored in one transaction), `transition` (the exactly-once protocol's order transitions),
  `outcome` (an order's per-number outcomes and its chained order, in one transaction), `tally`
  (counts and the report), `run_history` (one row per run).
- `audit`: the append-only JSON Lines log of every API exchange (a queued writer thread).

May import `orchestrator.api`, `orchestrator.plan` and `orchestrator.errors`; never the cutover,
cli, sandbox or v1 wings. Only the modules behind `Store` touch the database.
"""
