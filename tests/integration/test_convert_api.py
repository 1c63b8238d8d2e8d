"""`convert --from-api`: the live v1 externalTns listing over real HTTP (sandbox), read-only."""

from __future__ import annotations

import httpx
import pytest

from orchestrator.api.client import BasicCredentials, ClientCredentials, Credentials
from orchestrator.cutover.connection import ApiAccess, open_api
from orchestrator.errors import AuthError, InputError
from orchestrator.v1.intent import Action, InputKind
from orchestrator.v1.listing_api import DEFAULT_RATE_PER_S, Listing, fetch_external_tns, v1_base_url
from orchestrator.v1.orders import read_listing_pages

ACCOUNT = "9900012"


def post_external(sandbox, body: str) -> str:
    """Create a v1 externalTns order on the sandbox; return its order id."""
    url = f"{sandbox.base_url}/api/v1/accounts/{ACCOUNT}/externalTns"
    creds = sandbox.config.credentials
    r = httpx.post(url, content=body, auth=(creds.username, creds.password),
                   headers={"Content-Type": "application/xml"})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.headers["Location"].rsplit("/", 1)[1]


def use_up_rate_limit(sandbox, requests: int = 3) -> None:
    """Send a few listing GETs at once, exhausting a low rate limit's window."""
    creds = sandbox.config.credentials
    for _ in range(requests):
        httpx.get(f"{sandbox.base_url}/api/v1/accounts/{ACCOUNT}/externalTns",
                  auth=(creds.username, creds.password))  # fmt: skip


IMPORT = (
    "<ExternalTnsOrder><SiteId>{site}</SiteId><Action>IMPORT</Action><LoaType>CARRIER</LoaType>"
    "<TelephoneNumbers>{tns}</TelephoneNumbers></ExternalTnsOrder>"
)
REMOVE = (
    "<ExternalTnsOrder><Action>REMOVE</Action>"
    "<TelephoneNumbers>{tns}</TelephoneNumbers></ExternalTnsOrder>"
)


async def read_listing(
    base_url: str,
    credentials: Credentials,
    *,
    account: str = ACCOUNT,
    token_url: str | None = None,
    page_size: int = 1000,
    rate_per_s: float = DEFAULT_RATE_PER_S,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Listing:
    """The listing read as `convert --from-api` reads it: through `open_api` on the v1 base."""
    access = ApiAccess(v1_base_url(base_url), credentials, token_url)
    async with open_api(access, account, rate_per_s=rate_per_s, transport=transport) as api:
        return await fetch_external_tns(api.client, api.gate, page_size=page_size)


def tns(*numbers: str) -> str:
    return "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)


@pytest.mark.parametrize("prefix", ["/api/v1", "/api", "/v1.0"])
async def test_listing_is_read_from_every_v1_base_form(sandbox, prefix):
    """The three v1 base URL forms serve the same listing; its orders become intents."""
    post_external(sandbox, IMPORT.format(site="743", tns=tns("9198064286", "6673502735")))
    orders_before = len(sandbox.state.ledger_orders())
    creds = sandbox.config.credentials
    listing = await read_listing(
        sandbox.base_url + prefix, BasicCredentials(creds.username, creds.password)
    )
    result = read_listing_pages(listing.pages, listing.source)
    assert result.kind is InputKind.API_LISTING
    assert sorted(e.raw for e in result.entries if e.action is Action.IMPORT) == [
        "6673502735", "9198064286",
    ]  # fmt: skip
    assert listing.source.endswith(f"{prefix}/accounts/{ACCOUNT}/externalTns")
    assert len(sandbox.state.ledger_orders()) == orders_before  # read-only


async def test_listing_orders_apply_in_date_order_and_oauth_works(sandbox):
    """Import then remove of one number: the remove (newer) is applied last; OAuth2 is used."""
    post_external(sandbox, IMPORT.format(site="743", tns=tns("3035133456")))
    post_external(sandbox, REMOVE.format(tns=tns("3035133456")))
    creds = sandbox.config.credentials
    listing = await read_listing(
        sandbox.base_url + "/api/v1",
        ClientCredentials(creds.client_id, creds.client_secret),
        token_url=f"{sandbox.base_url}/api/v1/oauth2/token",
    )
    result = read_listing_pages(listing.pages, listing.source)
    assert [e.action for e in result.entries if e.raw == "3035133456"] == [
        Action.IMPORT,
        Action.REMOVE,
    ]


async def test_empty_listing_is_no_orders(sandbox):
    """v1 answers 404 when nothing matches: an empty listing, not an error."""
    creds = sandbox.config.credentials
    listing = await read_listing(
        sandbox.base_url + "/api/v1", BasicCredentials(creds.username, creds.password)
    )
    assert listing.pages == []


async def test_wrong_credentials_are_an_auth_error(sandbox):
    """Refused credentials surface as AuthError (exit 3), not as an empty listing."""
    with pytest.raises(AuthError):
        await read_listing(sandbox.base_url + "/api/v1", BasicCredentials("x", "y"))


async def test_links_next_pages_are_followed(sandbox):
    """The v1 listing served a page at a time (Links/next) is read page by page to the end."""
    creds = sandbox.config.credentials
    numbers = ["2129332865", "9198064286", "6673502735"]
    for n in numbers:
        post_external(sandbox, IMPORT.format(site="743", tns=tns(n)))
    listing = await read_listing(
        sandbox.base_url + "/api/v1", BasicCredentials(creds.username, creds.password),
        page_size=1,
    )  # fmt: skip
    assert len(listing.pages) == 3
    assert sandbox.app.ledger.to_json()["requests"]["total"] == 3 + 3  # 3 creates, 3 pages
    result = read_listing_pages(listing.pages, listing.source)
    assert sorted(e.raw for e in result.entries) == sorted(numbers)


def test_base_url_checks():
    """Credentials in the URL and v2 bases are refused; a bare host means /api/v1."""
    assert (
        v1_base_url("https://dashboard.bandwidth.com") == "https://dashboard.bandwidth.com/api/v1"
    )
    with pytest.raises(InputError, match="credentials in the URL"):
        v1_base_url("https://u:p@dashboard.bandwidth.com/api/v1")
    with pytest.raises(InputError, match="v2 base"):
        v1_base_url("https://api.bandwidth.com/api/v2")


async def test_rate_limited_listing_waits_and_succeeds(sandbox_factory):
    """A 429 from a rate-limited v1 endpoint pauses the read until the window resets."""
    sandbox = sandbox_factory(rate_limit_per_s=2)
    creds = sandbox.config.credentials
    post_external(sandbox, IMPORT.format(site="743", tns=tns("2129332865")))
    use_up_rate_limit(sandbox)  # so the listing's first GET meets a 429
    listing = await read_listing(
        sandbox.base_url + "/api/v1", BasicCredentials(creds.username, creds.password)
    )
    result = read_listing_pages(listing.pages, listing.source)
    assert [e.raw for e in result.entries] == ["2129332865"]
    assert sandbox.app.ledger.to_json()["requests"]["rate_limited"] >= 1


async def test_capped_listing_is_read_in_date_windows():
    """A listing capped below its TotalCount, without next links, is read by createdDateTo."""
    orders = [(f"o{i}", f"2023-03-0{i}", f"919806428{i}") for i in range(1, 6)]  # oldest first
    asked: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        to = request.url.params.get("createdDateTo")
        asked.append(to)
        matching = [o for o in orders if to is None or o[1] <= to][::-1][:2]  # newest first, cap 2
        items = "".join(
            f"<ExternalTnsOrder><OrderId>{oid}</OrderId><OrderCreateDate>{day}T00:00:00Z"
            f"</OrderCreateDate><Action>REMOVE</Action><TelephoneNumbers><TelephoneNumber>{tn}"
            "</TelephoneNumber></TelephoneNumbers><ProcessingStatus>COMPLETE</ProcessingStatus>"
            "</ExternalTnsOrder>"
            for oid, day, tn in matching
        )
        total = len([o for o in orders if to is None or o[1] <= to])
        body = f"<ExternalTnsOrders><TotalCount>{total}</TotalCount>{items}</ExternalTnsOrders>"
        return httpx.Response(200, content=body.encode())

    listing = await read_listing(
        "http://127.0.0.1:9/api/v1", BasicCredentials("u", "p"), account="1",
        rate_per_s=100, transport=httpx.MockTransport(handler),
    )  # fmt: skip
    assert asked == [None, "2023-03-04", "2023-03-03", "2023-03-02"]  # stops at TotalCount
    result = read_listing_pages(listing.pages, listing.source)
    assert [e.raw for e in result.entries] == [o[2] for o in orders]  # applied oldest first
    assert listing.notes == []
