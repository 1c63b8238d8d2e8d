"""Sandbox: every v2 answer conforms to the published response schemas (the strict referee).

One drive (a module fixture, on a stopped clock) walks every v2 endpoint the sandbox serves
that the excerpt describes, in success and error cases: orders in every status (RECEIVED,
PROCESSING, COMPLETE, PARTIAL, FAILED, EXCEPTION; removals' PROCESSING; TN options with the
SMS Warning, 5076 and 5128), refusals for the schema and for business rules (400, 409),
unknown and malformed ids (400/404), empty lists and 204. Each answer is judged by
`orchestrator.spec.validate_response(operation, status, body)` with `allow_unknown=False`.

A status the excerpt does not document for an operation (it documents no error at all for
an import GET, for instance) is allowed only when `UNDOCUMENTED` lists it, with the
documented answer of the same error shape it is judged as (its root renamed) and why. The
coverage test pins the (operation, status) pairs the drive produced, and that the excerpt's
operations the sandbox does not serve really answer 404.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from orchestrator.sandbox import ManualClock, RunningSandbox, SandboxConfig
from orchestrator.spec import documented_statuses, validate_response

EXCERPT = Path(__file__).parents[2] / "orchestrator" / "spec" / "numbers_v2.excerpt.yml"
ACCOUNT = "9900012"
ORDER_DELAY_S = 2.0  # RECEIVED for 1 s, PROCESSING for 1 s, then terminal
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

IMPORT = "importTnOrders/messaging"
REMOVE = "removeImportedTnOrders/messaging"

# Numbers of the drive's inventory.
IN_SERVICE = ("+12018551020", "+12018551021", "+12018551022")  # the first with SMS on
HOSTED = "+19195550300"  # imported here before the drive
BANDWIDTH = ("+14109235436", "+14109235437")  # Bandwidth numbers on no account: 19006
EXCEPTION_NUMBER = "+13035550199"  # a failure rule with status EXCEPTION
FREE = ("+19195550100", "+19195550101", "+19195550102", "+19195550103")  # importable

SEED = {
    "numbers": [
        {"number": IN_SERVICE[0], "sms_enabled": True},
        {"number": IN_SERVICE[1]},
        {"number": IN_SERVICE[2]},
        {"number": HOSTED, "kind": "imported", "sms_enabled": True},
        {"number": BANDWIDTH[0], "count": 2, "kind": "bandwidth"},
    ],
    "failure_rules": [
        {"numbers": [EXCEPTION_NUMBER], "kind": "import", "code": 19010, "status": "EXCEPTION"}
    ],
}


@dataclass(frozen=True)
class Exchange:
    """One answer of the drive: what was asked (`label`), of which operation."""

    label: str
    operation: str
    status: int
    body: bytes


@dataclass(frozen=True)
class JudgedAs:
    """How an answer with a status the excerpt does not document is judged: its root must be
    `root`; renamed `as_root`, it must be the documented `as_operation` `as_status` answer of
    the same error shape."""

    root: str
    as_operation: str
    as_status: int
    as_root: str
    why: str


_REPORT_404 = ("GetTnOptionOrder", 404, "TnOptionOrderReportResponse")
_REPORT_400 = ("RetrieveRemoveImportedTnOrder", 400, "RemoveImportedTnOrdersReportResponse")

UNDOCUMENTED: dict[tuple[str, int], JudgedAs] = {
    ("ReadImportMessagingTnOrder", 404): JudgedAs(
        "ImportTnOrderReportResponse", *_REPORT_404,
        "the excerpt documents no error for an import GET; an unknown id answers the"
        " ResponseStatus 'The resource does not exist' its sibling GETs document",
    ),
    ("ReadImportMessagingTnOrder", 400): JudgedAs(
        "ImportTnOrderReportResponse", *_REPORT_400,
        "a malformed id: 1008 as the removal GET documents it",
    ),
    ("ReadImportMessagingTnOrderHistory", 404): JudgedAs(
        "ImportTnOrderReportResponse", *_REPORT_404, "as the import GET",
    ),
    ("ReadImportMessagingTnOrders", 400): JudgedAs(
        "ImportTnOrders", *_REPORT_400,
        "a bad date filter (1007): the ResponseStatus shape of every list-side refusal",
    ),
    ("GetTnOptionOrders", 400): JudgedAs(
        "TnOptionOrderReportResponse", *_REPORT_404,
        "an unknown status filter (1008) under the list's own root",
    ),
    ("GetSubscription", 404): JudgedAs(
        "SubscriptionsResponse", "DeleteSubscription", 404, "SubscriptionsResponse",
        "the excerpt documents only 200; PUT and DELETE document this 404 for an unknown id",
    ),
    ("RetrieveTnDetails", 404): JudgedAs(
        "TelephoneNumberResponse", "RetrieveTnDetails", 400, "TelephoneNumberResponse",
        "a number the sandbox does not know: 404 [I] in the 400's ResponseStatus shape",
    ),
    ("ReadInserviceTns", 400): JudgedAs(
        "TNs", "GetAllE911Addresses", 404, "AddressesResponse",
        "areaCode without countryCodeA3 (1003) [I]: a ResponseStatus under the list's root",
    ),
}  # fmt: skip


class Drive:
    """Sends requests to the sandbox's v2 API and keeps every answer."""

    def __init__(self, sandbox: RunningSandbox, clock: ManualClock) -> None:
        self.clock = clock
        auth = ("sandbox", "sandbox")
        base = f"{sandbox.base_url}/api/v2"
        self.account = httpx.Client(base_url=f"{base}/accounts/{ACCOUNT}/", auth=auth, timeout=10)
        self.root = httpx.Client(base_url=f"{base}/", auth=auth, timeout=10)
        self.exchanges: list[Exchange] = []

    def send(
        self, operation: str, label: str, method: str, path: str, body: str | None = None, **kw
    ) -> httpx.Response:
        client = self.root if path.startswith("tns/") else self.account
        r = client.request(method, path, content=body, **kw)
        self.exchanges.append(Exchange(label, operation, r.status_code, r.content))
        return r

    def created(self, operation: str, label: str, path: str, body: str) -> str:
        """POST an order that must be created; the path of the new order."""
        r = self.send(operation, label, "POST", path, body)
        assert r.status_code == 201, (label, r.text)
        return path + "/" + r.headers["location"].rsplit("/", 1)[1]


def numbers_xml(*numbers: str) -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    return f"<TelephoneNumbers>{tns}</TelephoneNumbers>"


SUBSCRIBER = (
    "<Subscriber><Name>ABC Inc.</Name><ServiceAddress><HouseNumber>11235</HouseNumber>"
    "<StreetName>Back</StreetName><City>Denver</City><StateCode>CO</StateCode><Zip>27541</Zip>"
    "</ServiceAddress></Subscriber><LoaAuthorizingPerson>The Authguy</LoaAuthorizingPerson>"
)


def schema_import(coid: str, *numbers: str, inner: str = SUBSCRIBER) -> str:
    return (
        f"<ImportTnOrder><CustomerOrderId>{coid}</CustomerOrderId><SiteId>743</SiteId>{inner}"
        f"<LoaType>CARRIER</LoaType>{numbers_xml(*numbers)}</ImportTnOrder>"
    )


def guide_import(coid: str, *numbers: str, site: str = "743") -> str:
    return (
        f"<ExternalTnsOrder><CustomerOrderId>{coid}</CustomerOrderId><SiteId>{site}</SiteId>"
        f"{numbers_xml(*numbers)}</ExternalTnsOrder>"
    )


def removal(*numbers: str) -> str:
    return f"<RemoveImportedTnOrder>{numbers_xml(*numbers)}</RemoveImportedTnOrder>"


def options(*groups: str, coid: str = "opt") -> str:
    return (
        f"<TnOptionOrder><CustomerOrderId>{coid}</CustomerOrderId><TnOptionGroups>"
        f"{''.join(groups)}</TnOptionGroups></TnOptionOrder>"
    )


def group(*numbers: str, inner: str = "<Sms>on</Sms>") -> str:
    return f"<TnOptionGroup>{inner}{numbers_xml(*numbers)}</TnOptionGroup>"


A2P = (
    "<A2pSettings><MessageClass>M</MessageClass><CampaignId>CA3XKE1</CampaignId>"
    "<Action>asSpecified</Action></A2pSettings>"
)


def drive_imports(d: Drive) -> None:
    op, get, history, lists = (
        "CreateImportMessagingTnOrder", "ReadImportMessagingTnOrder",
        "ReadImportMessagingTnOrderHistory", "ReadImportMessagingTnOrders",
    )  # fmt: skip
    done = d.created(op, "schema form", IMPORT, schema_import("imp-ok", FREE[0], FREE[1]))
    partial = d.created(
        op, "guide form", IMPORT, guide_import("imp-partial", FREE[2], BANDWIDTH[0])
    )
    failed = d.created(op, "all Bandwidth", IMPORT, guide_import("imp-failed", BANDWIDTH[1]))
    exception = d.created(op, "EXCEPTION rule", IMPORT, guide_import("imp-exc", EXCEPTION_NUMBER))
    d.send(get, "RECEIVED", "GET", done)
    d.clock.advance(ORDER_DELAY_S * 0.75)
    d.send(get, "PROCESSING", "GET", done)
    d.send(history, "RECEIVED, PROCESSING", "GET", done + "/history")
    d.clock.advance(ORDER_DELAY_S)
    for label, path in (("COMPLETE", done), ("PARTIAL", partial), ("FAILED", failed),
                        ("EXCEPTION", exception)):  # fmt: skip
        d.send(get, label, "GET", path)
        d.send(history, label, "GET", path + "/history")
    d.send(lists, "four orders", "GET", IMPORT)
    d.send(lists, "filtered to none", "GET", IMPORT, params={"customerOrderId": "none"})
    d.send(lists, "bad date", "GET", IMPORT, params={"createdDateFrom": "May 14"})
    d.send(get, "unknown id", "GET", f"{IMPORT}/{UNKNOWN_ID}")
    d.send(get, "malformed id", "GET", f"{IMPORT}/not-a-uuid")
    d.send(history, "unknown id", "GET", f"{IMPORT}/{UNKNOWN_ID}/history")
    refusals = {
        "unknown element": guide_import("x", FREE[3]).replace("<SiteId>", "<Flavour/><SiteId>"),
        "NANP without Subscriber": schema_import("x", FREE[3], inner=""),
        "unknown site": guide_import("x", FREE[3], site="999"),
        "not E.164": guide_import("x", "9195550103"),
        "foreign root": "<TnOptionOrder/>",
        "not XML": "<ImportTnOrder>",
    }
    for label, body in refusals.items():
        d.send(op, label, "POST", IMPORT, body)


def drive_removals(d: Drive) -> None:
    op, get, history, lists = (
        "CreateRemoveImportedTnOrder", "RetrieveRemoveImportedTnOrder",
        "RetrieveRemoveImportedTnOrderHistory", "ListRemoveImportedTnOrders",
    )  # fmt: skip
    done = d.created(op, "imported number", REMOVE, removal(FREE[0]))
    partial = d.created(op, "one never imported", REMOVE, removal(FREE[1], IN_SERVICE[2]))
    failed = d.created(op, "none imported", REMOVE, removal(FREE[3]))
    d.send(get, "PROCESSING", "GET", done)
    d.clock.advance(ORDER_DELAY_S)
    for label, path in (("COMPLETE", done), ("PARTIAL 5158", partial), ("FAILED", failed)):
        d.send(get, label, "GET", path)
        d.send(history, label, "GET", path + "/history")
    d.send(lists, "three orders", "GET", REMOVE)
    d.send(lists, "filtered to none", "GET", REMOVE, params={"tn": "+19999999999"})
    d.send(get, "unknown id", "GET", f"{REMOVE}/{UNKNOWN_ID}")
    d.send(get, "malformed id", "GET", f"{REMOVE}/not-a-uuid")
    d.send(history, "unknown id", "GET", f"{REMOVE}/{UNKNOWN_ID}/history")
    d.send(op, "not E.164", "POST", REMOVE, removal("9195550100"))
    d.send(op, "duplicate", "POST", REMOVE, removal(FREE[2], FREE[2]))
    d.send(op, "empty list", "POST", REMOVE, removal())


def drive_tn_options(d: Drive) -> None:
    op, get, history, lists = (
        "CreateTnOptionOrder",
        "GetTnOptionOrder",
        "GetOrderHistory",
        ("GetTnOptionOrders"),
    )
    warned = d.created(op, "SMS on", "tnoptions", options(group(*IN_SERVICE[:2]), coid="sms"))
    d.send(get, "RECEIVED", "GET", warned)
    mixed = options(
        group(IN_SERVICE[2], "+12018551029"),  # the second is not on the account: 5076
        group(HOSTED, inner="<Sms>on</Sms>" + A2P),  # A2P on a hosted number: 5128
        coid="mixed",
    )
    partial = d.created(op, "5076 and 5128", "tnoptions", mixed)
    a2p_only = options(group(HOSTED, inner=A2P), coid="a2p")
    failed = d.created(op, "A2P only on hosted", "tnoptions", a2p_only)
    d.clock.advance(ORDER_DELAY_S)
    for label, path in (("COMPLETE + Warning", warned), ("PARTIAL", partial), ("FAILED", failed)):
        d.send(get, label, "GET", path)
        d.send(history, label, "GET", path + "/history")
    d.send(lists, "three orders", "GET", "tnoptions")
    d.send(lists, "filtered to none", "GET", "tnoptions", params={"customerOrderId": "none"})
    d.send(lists, "unknown status filter", "GET", "tnoptions", params={"status": "DONE"})
    d.send(get, "unknown id", "GET", f"tnoptions/{UNKNOWN_ID}")
    d.send(history, "unknown id", "GET", f"tnoptions/{UNKNOWN_ID}/history")
    route_plan = "<OriginationRoutePlan><Action>off</Action></OriginationRoutePlan>"
    refusals = {
        "bad Sms value": options(group(IN_SERVICE[1], inner="<Sms>maybe</Sms>")),
        "no option": options(group(IN_SERVICE[1], inner="")),
        "route plan not enabled": options(group(IN_SERVICE[1], inner=route_plan)),
    }
    for label, body in refusals.items():
        d.send(op, label, "POST", "tnoptions", body)


def drive_checker(d: Drive) -> None:
    op = "CreateRequestImportTnChecker"

    def payload(*numbers: str, site: str = "<SiteId>743</SiteId>") -> str:
        return f"<ImportTnCheckerPayload>{numbers_xml(*numbers)}{site}</ImportTnCheckerPayload>"

    d.send(op, "all importable", "POST", "importTnChecker", payload(FREE[3]))
    d.send(op, "a Bandwidth number", "POST", "importTnChecker", payload(FREE[3], BANDWIDTH[0]))
    d.send(op, "no SiteId", "POST", "importTnChecker", payload(FREE[3], site=""))
    d.send(op, "not E.164", "POST", "importTnChecker", payload("61746052083"))


SUBSCRIPTION = (
    "<Subscription><OrderType>{}</OrderType><CallbackSubscription><URL>https://hooks.example.com/"
    "{}</URL><Expiry>3600</Expiry><CallbackCredentials><BasicAuthentication><Username>u"
    "</Username><Password>p</Password></BasicAuthentication></CallbackCredentials>"
    "</CallbackSubscription></Subscription>"
)
EMAIL_SUBSCRIPTION = (
    "<Subscription><EventType>MESSAGING_LOST</EventType><EmailSubscription><Email>ops@example.com"
    "</Email><DigestRequested>DAILY</DigestRequested></EmailSubscription></Subscription>"
)


def drive_subscriptions(d: Drive) -> None:
    create, get, update, delete, lists = (
        "CreateSubscriptions", "GetSubscription", "UpdateSubscription", "DeleteSubscription",
        "GetSubscriptions",
    )  # fmt: skip
    d.send(lists, "none yet", "GET", "subscriptions")
    callback = SUBSCRIPTION.format("importtnorders", "a")
    r = d.send(create, "callback", "POST", "subscriptions", callback)
    one = "subscriptions/" + r.headers["location"].rsplit("/", 1)[1]
    d.send(create, "email", "POST", "subscriptions", EMAIL_SUBSCRIPTION)
    d.send(create, "duplicate", "POST", "subscriptions", callback)
    d.send(create, "no OrderType", "POST", "subscriptions", callback.replace(
        "<OrderType>importtnorders</OrderType>", ""))  # fmt: skip
    d.send(lists, "two", "GET", "subscriptions")
    d.send(get, "one", "GET", one)
    d.send(update, "replace", "PUT", one, SUBSCRIPTION.format("tnoptions", "b"))
    d.send(update, "bad OrderType", "PUT", one, SUBSCRIPTION.format("bogus", "b"))
    d.send(update, "unknown id", "PUT", f"subscriptions/{UNKNOWN_ID}", callback)
    d.send(delete, "one", "DELETE", one)
    d.send(delete, "unknown id", "DELETE", one)
    d.send(get, "unknown id", "GET", one)


def drive_numbers(d: Drive) -> None:
    details = "RetrieveTnDetails"
    d.send(details, "in service, SMS on", "GET", f"tns/{IN_SERVICE[0]}/tndetails")
    d.send(details, "hosted", "GET", f"tns/{HOSTED}/tndetails")
    d.send(details, "imported by the drive", "GET", f"tns/{FREE[2]}/tndetails")
    d.send(details, "not E.164", "GET", "tns/2018551020/tndetails")
    d.send(details, "unknown", "GET", "tns/+19999999999/tndetails")
    listing, one = "ReadInserviceTns", "ReadInserviceTn"
    d.send(listing, "account", "GET", "inserviceNumbers", params={"size": "2"})
    d.send(listing, "no match", "GET", "inserviceNumbers",
           params={"areaCode": "999", "countryCodeA3": "USA"})  # fmt: skip
    d.send(listing, "areaCode without country", "GET", "inserviceNumbers",
           params={"areaCode": "201"})  # fmt: skip
    d.send("ReadInserviceTnsCount", "account", "GET", "inserviceNumbers/totals")
    site = "RetrieveSiteInserviceNumbers"
    d.send(site, "site", "GET", "sites/743/inserviceNumbers", params={"size": "2"})
    d.send(site, "site without numbers", "GET", "sites/486/inserviceNumbers")
    d.send(one, "in service", "GET", f"inserviceNumbers/{IN_SERVICE[0]}")
    d.send(one, "not on the account", "GET", "inserviceNumbers/+19999999999")
    d.send("GetAllE911Addresses", "account", "GET", "e911Addresses")


@pytest.fixture(scope="module")
def exchanges(_sandbox_server: RunningSandbox) -> Iterator[list[Exchange]]:
    """Every answer of the drive (the session's sandbox, reconfigured for this module)."""
    clock = ManualClock()
    _sandbox_server.reconfigure(SandboxConfig(order_delay_s=ORDER_DELAY_S), clock)
    _sandbox_server.state.seed(SEED)
    d = Drive(_sandbox_server, clock)
    try:
        for part in (drive_imports, drive_removals, drive_tn_options, drive_checker,
                     drive_subscriptions, drive_numbers):  # fmt: skip
            part(d)
        yield d.exchanges
    finally:
        d.account.close()
        d.root.close()


def judge(exchange: Exchange) -> list[str]:
    """Why an answer does not conform (empty when it does)."""
    operation, status, body = exchange.operation, exchange.status, exchange.body
    if status not in documented_statuses(operation):
        judged = UNDOCUMENTED.get((operation, status))
        if judged is None:
            return [f"status {status} is neither documented nor listed in UNDOCUMENTED"]
        root = ET.fromstring(body)
        if root.tag != judged.root:
            return [f"root <{root.tag}>, expected <{judged.root}>"]
        root.tag = judged.as_root
        operation, status, body = judged.as_operation, judged.as_status, ET.tostring(root)
    return [f"{v.path}: {v.rule}: {v.message}" for v in validate_response(operation, status, body)]


EXPECTED = {
    "CreateImportMessagingTnOrder": {201, 400},
    "ReadImportMessagingTnOrder": {200, 400, 404},
    "ReadImportMessagingTnOrderHistory": {200, 404},
    "ReadImportMessagingTnOrders": {200, 400},
    "CreateRemoveImportedTnOrder": {201, 400},
    "RetrieveRemoveImportedTnOrder": {200, 400},
    "RetrieveRemoveImportedTnOrderHistory": {200, 400},
    "ListRemoveImportedTnOrders": {200},
    "CreateTnOptionOrder": {201, 400, 409},
    "GetTnOptionOrder": {200, 404},
    "GetOrderHistory": {200, 404},
    "GetTnOptionOrders": {200, 400},
    "CreateRequestImportTnChecker": {200, 400},
    "CreateSubscriptions": {201, 400, 409},
    "GetSubscriptions": {200},
    "GetSubscription": {200, 404},
    "UpdateSubscription": {200, 400, 404},
    "DeleteSubscription": {200, 404},
    "RetrieveTnDetails": {200, 400, 404},
    "ReadInserviceTns": {200, 204, 400},
    "ReadInserviceTnsCount": {200},
    "ReadInserviceTn": {200, 404},
    "RetrieveSiteInserviceNumbers": {200},
    "GetAllE911Addresses": {200},
}


@pytest.mark.parametrize("operation", sorted(EXPECTED))
def test_every_answer_conforms(exchanges, operation):
    """Each answer of the operation passes the strict referee (undocumented statuses as the
    documented answer of their shape), failing with every violation listed."""
    answers = [e for e in exchanges if e.operation == operation]
    assert answers, f"the drive produced no answer of {operation}"
    problems = {f"{e.status} {e.label}": found for e in answers if (found := judge(e))}
    assert problems == {}


NOT_SERVED = {
    # The excerpt's operations the sandbox does not serve (bwmigrate never calls them).
    "ReadImportMessagingTnOrderLoas": ("GET", f"{IMPORT}/{UNKNOWN_ID}/loas"),
    "CreateImportMessagingTnOrderLoas": ("POST", f"{IMPORT}/{UNKNOWN_ID}/loas"),
    "listWebhookSubscriptions": ("GET", "tollFreeVerification/webhooks/subscriptions"),
    "createWebhookSubscription": ("POST", "tollFreeVerification/webhooks/subscriptions"),
    "updateWebhookSubscription": ("PUT", f"tollFreeVerification/webhooks/subscriptions/{ACCOUNT}"),
    "deleteWebhookSubscription": (
        "DELETE",
        f"tollFreeVerification/webhooks/subscriptions/{ACCOUNT}",
    ),
}


def test_the_drive_covers_each_operation_and_status(exchanges):
    """The drive produced exactly the expected statuses of every served operation, including
    each order status the excerpt's order schemas and callbacks name."""
    seen: dict[str, set[int]] = {}
    for e in exchanges:
        seen.setdefault(e.operation, set()).add(e.status)
    assert seen == EXPECTED
    order_statuses = {
        ET.fromstring(e.body).findtext("ProcessingStatus")
        for e in exchanges
        if e.operation
        in ("ReadImportMessagingTnOrder", "GetTnOptionOrder", "RetrieveRemoveImportedTnOrder")
        and e.status == 200
    }
    assert order_statuses == {
        "RECEIVED",
        "PROCESSING",
        "COMPLETE",
        "PARTIAL",
        "FAILED",
        "EXCEPTION",
    }
    codes = {
        c.text
        for e in exchanges
        if e.status == 200 and e.body
        for c in ET.fromstring(e.body).iter("Code")
    }
    assert {"5076", "5128", "5158", "19006", "19010"} <= codes


def excerpt_operations() -> set[str]:
    """Every operationId of the vendored excerpt the referee reads."""
    spec = yaml.safe_load(EXCERPT.read_text(encoding="utf-8"))
    return {op["operationId"] for item in spec["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op}  # fmt: skip


def test_every_excerpt_operation_is_driven_or_not_served(sandbox_client):
    """Each operation of the excerpt is either driven above or answers 404 (not served)."""
    assert excerpt_operations() == set(EXPECTED) | set(NOT_SERVED)
    statuses = {
        operation: sandbox_client.request(method, path).status_code
        for operation, (method, path) in NOT_SERVED.items()
    }
    assert set(statuses.values()) == {404}
