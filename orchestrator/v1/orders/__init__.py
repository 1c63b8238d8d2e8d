"""v1 XML artefacts -> intents: request bodies, order GETs and listings, SIP-peer TN bodies.

What customers actually have: saved request bodies (one per file, or several concatenated),
curl scripts and request logs with bodies embedded in other text, `GET` answers and order
listings. A file that is one XML document is read as such; anything else is searched for the
documents named below, each parsed on its own with the hardened parser (`orchestrator.api.xml`).

    ExternalTnsOrder              Action IMPORT / REMOVE (body; or an order GET when it has a
                                  ProcessingStatus)
    ExternalTnsOrders             a listing: orders applied by OrderCreateDate
    ImportTnOrder                 import (body or GET)
    RemoveImportedTnOrder         remove (body or GET)
    SipPeerTelephoneNumber        MessagingSettings/SmsEnabled -> SMS on/off; the number from
                                  FullNumber or the request path, the site and SIP peer from
                                  elements, the request path in the text before it, or the
                                  file's own path (`sites/743/sippeers/303716/tns/...`)
    *Response wrappers            create answers and GET answers: no intent (noted)

Order reports (a `ProcessingStatus` is present): only COMPLETE and PARTIAL orders count, and
only their numbers v1 did not list under `Errors`; failed numbers become `V1Failure`s and
pending orders (RECEIVED, PROCESSING) are noted, not counted.

Modules, one per concern: `fragment` (finding documents in a file), `reader` (one input ->
`ReadResult`, each document dispatched by kind), `order_document` (the three order documents,
body or report), `sip_peer` (SIP-peer TN bodies), `listing_page` (paging facts of the live
listing), `element` (lxml access and the located error).

Pure; lxml elements never leave this package. Errors are `InputError`s naming file, line and
element. Imports only the hardened XML parser (`orchestrator.api.xml`), `orchestrator.errors`
and `orchestrator.v1.intent`; nothing of the engine, the state file or the CLI. Its modules
import each other by module path, never this package. This file re-exports what `convert` and
`listing_api` use.
"""

from orchestrator.v1.orders.fragment import has_v1_xml
from orchestrator.v1.orders.listing_page import PageInfo, listing_page_info
from orchestrator.v1.orders.reader import read_listing_pages, read_xml_input

__all__ = ["PageInfo", "has_v1_xml", "listing_page_info", "read_listing_pages", "read_xml_input"]
