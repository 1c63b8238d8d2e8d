"""The cutover wing: running a plan against a target, and what comes out of a run.

- `cutover`: a run as a library (`Cutover`): open or create the state for a plan and a target,
  decide whether a resume is safe, build the client / gate / audit wiring once, run the engine,
  record the run, compute the outcome and exit code. The CLI, the benches and the tests use it.
- `connection`: the one client / request gate / audit log wiring (`ApiAccess`, `open_audit`,
  `open_api`), shared by `run`, `plan --check`, `doctor` and `convert --from-api`.
- `engine`: the async engine: loads the state, dispatches steps and drives each order to done
  over one anyio task group, with the parts below sharing one `context.RunContext`.
- `submit`: posting an order exactly once (intent first, then the POST, then the id).
- `reconcile`: finding an order whose POST outcome is unknown (adopt, or prove absent).
- `outcome`: polling an order to terminal and committing its per-number outcome; the failure
  threshold.
- `canary`: an import step's canary order first; a refused canary stops the run.
- `context`: what the engine's parts share during a run (wiring, steps, tally).
- `rehearsal`: the embedded sandbox prepared for a plan (`run --sandbox`, `plan --check
  --sandbox`, `doctor --sandbox`), built and started only here.
- `preflight`: `plan --check` through importTnChecker.
- `rollback`: a run's changes -> the plan that undoes them (pure).
- `report`: the summary object and the per-number CSV/JSON report (pure formatting).
- `run_view`: what the HTML report and the live page show, read from a state file (read-only)
  and its audit log; `timeline`: the run over time in buckets (pure); `svg_chart`,
  `html_report`, `html_assets`: the pages drawn (pure).

May import the state, api and plan wings, `orchestrator.sandbox` (the rehearsal target only) and
`orchestrator.errors`; never the cli or v1 wings.
"""
