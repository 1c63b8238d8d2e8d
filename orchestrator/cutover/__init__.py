"""The cutover wing: running a plan against a target, and what comes out of a run.

- `cutover`: a run as a library (`Cutover`): open or create the state for a plan and a target,
  decide whether a resume is safe, build the client / gate / audit wiring once, run the engine,
  record the run, compute the outcome and exit code. The CLI, the benches and the tests use it.
- `connection`: the one client / request gate / audit log wiring (`ApiAccess`, `open_audit`,
  `open_api`), shared by `run`, `plan --check`, `doctor` and `convert --from-api`.
- `engine`: the async engine: dispatch, submit, poll, commit, the canary and the failure
  threshold over one anyio task group.
- `reconcile`: finding an order whose POST outcome is unknown (adopt, or prove absent).
- `rehearsal`: the embedded sandbox prepared for a plan (`run --sandbox`, `plan --check
  --sandbox`, `doctor --sandbox`), built and started only here.
- `preflight`: `plan --check` through importTnChecker.
- `rollback`: a run's changes -> the plan that undoes them (pure).
- `report`: the summary object and the per-number CSV/JSON report (pure formatting).

May import the state, api and plan wings, `orchestrator.sandbox` (the rehearsal target only) and
`orchestrator.errors`; never the cli or v1 wings.
"""
