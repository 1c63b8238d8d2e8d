"""The api wing: how bwmigrate talks to Bandwidth's v2 API.

- `xml_request`: the XML request bodies (one builder per request); pure.
- `safe_xml`: the hardened XML parser (no DTDs, entities, network; HTML/JSON named); pure.
- `xml`: the API's XML answers as typed documents (orders, lists, errors, checker, tndetails);
  pure.
- `orders`: `ORDER_KINDS`, the one table of step kind -> API order kind, endpoint path and
  subscription order type, and the body of each order; pure.
- `status`: what the API's order statuses and error codes mean (EXCEPTION, unknown statuses,
  A2P refusals, canary verdicts); pure.
- `pacing`: retry and pacing decisions (backoff, AIMD, poll schedule, `Retry-After` /
  `X-RateLimit-Reset`); pure, no module state: the testing switch is `Backoff(sleeps=False)`.
- `gate`: the async request gate every call goes through (burst-free pacing, submits before
  polls, 429 pauses), and `call_with_retry`.
- `credentials`: credentials from an environment mapping, the pinned OAuth2 token URL, target
  URL checks; pure.
- `answer`: what an HTTP answer means (the "nothing matched" list rule, Location ids, the
  mapping of transport faults and statuses to the package's errors).
- `auth`: the Authorization header of each request, OAuth2 tokens fetched and refreshed.
- `client`: the v2 API over one httpx client: the transport, one method per call; no retry
  policy.

May import `orchestrator.plan`, `orchestrator.spec` and `orchestrator.errors`; never the state,
cutover, cli, sandbox or v1 wings (import-linter contract in pyproject.toml). Only `client`
and `gate` do I/O (`auth` sends its token request through the client; `answer` reads the
clock to date a 429).
"""
