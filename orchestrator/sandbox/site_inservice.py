"""`GET /accounts/{a}/sites/{site}/inserviceNumbers`: the numbers in service on one site.

The excerpt's `RetrieveSiteInserviceNumbers` (same `TNs` answer and paging as the account's
list, `resource_routes.inservice_page`). A site the account does not have answers 404 with
an empty body [I: the excerpt documents only 200]; a site with no numbers answers 200 with
`TotalCount` 0 [I]. What "in service on the site" means here: every number of the account
(Bandwidth numbers and imported ones) whose site is this one, as tndetails shows it.

Imports only its sandbox siblings (the sandbox's rule).
"""

from __future__ import annotations

from starlette.responses import Response

from orchestrator.sandbox import xmlio
from orchestrator.sandbox.context import Ctx, xml
from orchestrator.sandbox.model import NumberKind, RejectedError
from orchestrator.sandbox.resource_routes import inservice_page


def _site_numbers(ctx: Ctx, site_id: str) -> list[str]:
    account = ctx.state.account(ctx.account_id)
    if account is None or all(site.id != site_id for site in account.sites):
        raise RejectedError(404, [])
    ctx.state.account_numbers(ctx.account_id)  # lets due orders complete first
    return sorted(
        r.number
        for r in list(ctx.state.numbers.values())
        if r.account_id == ctx.account_id
        and r.site_id == site_id
        and r.kind is not NumberKind.BANDWIDTH
    )


async def list_site_inservice(ctx: Ctx) -> Response:
    numbers = _site_numbers(ctx, ctx.params["site"])
    if not numbers:
        return xml(
            xmlio.el(
                "TNs",
                xmlio.el("TotalCount", text="0"),
                xmlio.el("TelephoneNumbers", xmlio.el("Count", text="0")),
            )
        )
    return inservice_page(ctx, numbers)
