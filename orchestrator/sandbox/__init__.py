"""The sandbox: a local emulator of Bandwidth's v2 number-management API, with fault injection.

It is the embedded target of `bwmigrate run --sandbox` and the HTTP peer of every integration
test. It emulates the documented behaviour of the real API (shared/reference/bandwidth-api.md
and the v2 migration guide): paths, XML element names, statuses, error shapes, E.164 on v2.

Default credentials (override in the seed file's `[credentials]`):
    HTTP Basic      user `sandbox`, password `sandbox`
    OAuth2 client   id `sandbox-client`, secret `sandbox-secret`
                    (POST /api/v1/oauth2/token, grant_type=client_credentials -> Bearer token)
Default account `9900012` with sites 743 (SIP peer 303716), 486 (500025) and 744 (303717,
without the SMS feature); no numbers until seeded.

Modules: `model` (vocabulary), `codes` (error texts), `config` (SandboxConfig, TOML seed
files), `clock`, `xmlio` (its own XML codec; never the client's `orchestrator.api.xml`),
`refusal` (request bodies judged by the published schema, `orchestrator.spec`, and the
violation -> catalogue code table), `validation` (business rules of a body),
`orders` (order timing and filters), `inventory` (numbers
and per-number outcomes), `state` (the lifecycle and indexes), `subscriptions`, `render`
(response documents), `auth`, `faults`, `ledger` (request counts, rate limit), `context`,
`order_routes` and `resource_routes` (handlers), `routes` (the table), `app` (ASGI shell,
side endpoints), `server` (uvicorn: `run_sandbox`, `serve_forever`).

Choices where the reference marks a fact inferred [I] or conflicting [X]:
- Import create answers `ImportTnOrderResponse` (not the java SDK's `ImportTnOrdersResponse`)
  with ProcessingStatus RECEIVED [X]; removal answers PROCESSING (documented).
- Requests are judged by the published schema: with `strict_schema = true` (default) every v2
  body of an operation the vendored excerpt describes (import, removal, TN options,
  importTnChecker, subscription POST/PUT) goes through `orchestrator.spec` before anything
  else, and a non-conforming one is refused 400 in the endpoint's own error shape with one
  catalogue code per violation (`refusal.ANSWERS`: the endpoint's own code where the catalogue
  has one, e.g. 1022, 5073, 7309, 7318, 25131, 5113; else by rule: 1003 required, 1005 not
  allowed, 1008 bad value, 1009 repeated, 1011/1012 length, 1019 not the document). Business
  rules (site and peer exist, duplicates, the size cap, NANP-valid numbers) are judged after,
  on conforming bodies only [I]. v1 routes judge only import, removal and checker bodies (the
  element sets v1 shares), their 10-digit numbers read as +1; v1 TN options and subscriptions
  keep v1's values. `false` keeps the lenience of old rehearsal files. Every handler reads its
  body through `context.request_body(ctx, operationId)`.
- The import accepts the roots the seed's `import_body_forms` lists (both by default): the
  excerpt's `ImportTnOrder` and the guide's `ExternalTnsOrder` (judged by the guide's element
  set); another root is 400 1019, strict or not. LoaType defaults: CARRIER for the
  `ExternalTnsOrder` form, SUBSCRIBER for `ImportTnOrder` (as documented per form).
- importTnChecker requires SiteId (400 `ImportTnCheckerResponse/Errors` 7309: the excerpt says
  the SIP peer defaults to the given site's).
- 5000 numbers per order for every order kind [I]; 5095 above it.
- Unknown well-formed order id: `<…ReportResponse><ResponseStatus><Description>The resource does
  not exist` with 400 for removal (the excerpt's only error answer of that GET and its history),
  404 for TN options (the excerpt's 404) and import (the excerpt documents none [I]); malformed
  id: 400/1008 for import and removal (documented for removal), 404 for TN options (documented
  404, nothing said about malformed ids).
- EXCEPTION (a failure rule's `status`): only import orders end so (the `importtnorders`
  webhook states and the callback schema list it; the order schemas' ProcessingStatus enum does
  not) [I]. Its GET shows `ProcessingStatus` EXCEPTION and the rule's code and description as
  the one `Errors/Error`, over every number of the order: `Errors` is the only error container
  the ImportTnOrder schema has (the callback's free-text `Message`/`Note` has no GET
  counterpart), and no number of the order was imported.
- List endpoints: `status` (repeatable, any ProcessingStatus), `tn` (E.164 on v2),
  `customerOrderId`, `createdDateFrom/To` and `modifiedDateFrom/To` (`yyyy-MM-dd`, inclusive,
  the sandbox clock's UTC date; else 400 1007), `loaType` (import lists only); other
  parameters are ignored. `[faults] list_lag_s` hides every new order from lists for exactly
  that long (a lagging search index; no draw, so no fault decision moves) [I].
- v1-only paths under /api/v2 (externalTns, addresses, importTnOrders and
  removeImportedTnOrders without /messaging): 404 with a ResponseStatus body [I]; an unknown
  path: 404 with root `ErrorResponse` [I].
- 401 has an empty body and `WWW-Authenticate: Basic` [I: undocumented for the XML API];
  unknown account under valid credentials: 403 ResponseStatus 1001 "Access Denied".
- A non-E.164 number on v2: import/removal 400 with one `Errors` 1022; a TN option order 400
  ResponseStatus 1022 (strict; lenient: a per-number `ErrorList` 1022 at completion, as for an
  E.164-shaped number that is no valid +1 number); in a path ({tn}) 400 ResponseStatus 1022.
  importTnChecker answers 7201 per invalid number (as the documented example) in both versions.
- Per-number outcomes at completion: a Bandwidth number (in service anywhere, or Bandwidth
  inventory) 19006; a number imported on another account 19005 [I]; a re-import on the same
  account succeeds and resets the number's messaging settings (documented for externalTns);
  removing a number not imported on the account 5158 (externalTns REMOVE: 25120).
- TN option per-number codes: 5076 not on the account, 5166 SIP peer without SMS, 5132 A2P with
  SMS off, 5128 non-SMS options or `A2pSettings` on numbers hosted (imported) on the account
  (reference §8: SMS on/off alone is allowed); SMS on for an enabled number succeeds with
  the documented Warning. Body-level: 400 ResponseStatus with the first error; 409 5200 for an
  OriginationRoutePlan when the account lacks it.
- Order history statuses are uppercase (spec examples) [X: the java fixture has lowercase].
- List summaries use the example casing (`accountId`, `userId`, `lastModifiedDate`,
  `OrderStatus`) [X]; lists are newest first, at most 1000; an empty list is
  `<ImportTnOrders><TotalCount>0</TotalCount></ImportTnOrders>` [I]. The v2 TN option list is
  wrapped in `TnOptionOrderReportResponse` (the excerpt); v1 answers the bare `TnOptionOrders`
  of RAML and the SDK fixtures [X].
- importTnChecker omits `ImportTnErrors` when every number passes [I].
- sites/{site}/inserviceNumbers: the site's numbers, paged as the account's list; 200 with
  `TotalCount` 0 for a site without numbers, 404 (empty body) for a site the account lacks [I].
- inserviceNumbers: `page` is a 1-based page number (v1 semantics; v2 says "id of first
  element", initial 1) [X]; v2 `areaCode`/`city`/`phoneNumberType` without `countryCodeA3`
  answers 400 ResponseStatus 1003 inside `<TNs>` [I]; 204 when nothing matches.
- The 429 carries both `X-RateLimit-Reset` (documented) and `Retry-After` [I]; the token endpoint
  is exempt from the rate limit and from faults (so a client can always authenticate).
- Subscriptions default `NumberFormat` to E164 on v2 and LEGACY on v1 (documented); GET by id is
  wrapped like the list (`SubscriptionsResponse/Subscriptions`) [X]. No callbacks are sent.
- tndetails: root `TelephoneNumberResponse/TelephoneNumberDetails`; `A2pState` values
  (`overridden`/`system_default`) [I]; an imported number adds `TnAttributes` Hosted and one
  `HostedTelephoneNumberDetails/HostedTelephoneNumberDetail` (the excerpt's examples).
- Every v2 answer the sandbox gives conforms to the excerpt's response schemas under the strict
  referee (tests/integration/test_sandbox_conforms.py).
"""

from orchestrator.sandbox.clock import ManualClock, SystemClock
from orchestrator.sandbox.config import SandboxConfig, load_config
from orchestrator.sandbox.server import RunningSandbox, run_sandbox, start_sandbox

__all__ = [
    "ManualClock",
    "RunningSandbox",
    "SandboxConfig",
    "SystemClock",
    "load_config",
    "run_sandbox",
    "start_sandbox",
]
