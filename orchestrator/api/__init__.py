"""The api wing: how bwmigrate talks to Bandwidth's v2 API.

- `xml`: the XML codec (request builders, hardened parsing, typed answers); pure.
- `orders`: the one table of step kind -> API order kind, and the body of each order; pure.
- `status`: what the API's order statuses and error codes mean (EXCEPTION, unknown statuses,
  A2P refusals, canary verdicts); pure.
- `pacing`: retry and pacing decisions (backoff, AIMD, poll schedule, `Retry-After` /
  `X-RateLimit-Reset`); pure, the testing switch a parameter.
- `gate`: the async request gate every call goes through (burst-free pacing, submits before
  polls, 429 pauses), and `call_with_retry`.
- `credentials`: credentials from an environment mapping, the pinned OAuth2 token URL, target
  URL checks; pure.
- `client`: the v2 API over one httpx client: auth, typed errors, no retry policy.

May import `orchestrator.plan`, `orchestrator.spec` and `orchestrator.errors`; never the state,
cutover, cli, sandbox or v1 wings (import-linter contract in pyproject.toml). Only `client` and
`gate` do I/O.
"""
