"""Rules the excerpt states only in prose, encoded once by hand, each citing its sentence.

Each rule takes the root of a request whose root element is already the right one and returns
its violations; the structural walk has run (and reported type, pattern and missing-element
problems) before, so these rules only add what structure cannot say. Simpler prose rules
(CustomerOrderId's characters, required elements, list bounds) are schema patches in
`overrides`. Pure; imports nothing from the rest of `orchestrator`.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from orchestrator.spec.violation import Violation, quote, where

__all__ = ["REQUEST_RULES", "check_import_nanp", "check_tn_option_order"]

NANP_PREFIX = "+1"

_NANP_IMPORT_ELEMENTS = ("Subscriber", "LoaAuthorizingPerson", "LoaType")
"""CreateImportMessagingTnOrder's description (excerpt lines 222-232): "The following request
parameters are only required for numbers from specific region/country: | NANP |
LoaAuthorizingPerson | NANP | LoaType | NANP | Subscriber |"."""

_NANPA_OPTIONS = (
    "PortOutPasscode",
    "Protected",
    "PindropEnabled",
    "ESPID",
    "CallingNameDisplay",
    "A2pSettings",
    "NNID",
)
"""CreateTnOptionOrder's description (excerpt lines 1443-1459): the attributes whose "Number
Region" is NANPA; "When attributes tagged NANPA are passed in request body, only North
American Numbering Plan phone numbers are allowed and updated" (line 1459)."""

_A2P_ACTIONS_WITHOUT_CAMPAIGN = ("off", "systemDefault", "delete")
"""CreateTnOptionOrder's A2pSettings table (excerpt lines 1487-1500): for Action systemDefault,
off and delete "Any values for Class or Campaign ID are not valid"."""


def _text(el: etree._Element | None) -> str:
    return "" if el is None else (el.text or "").strip()


def _numbers(parent: etree._Element) -> list[str]:
    return [_text(tn) for tn in parent.iterfind("TelephoneNumbers/TelephoneNumber")]


def check_import_nanp(root: etree._Element) -> list[Violation]:
    """An import with any +1 number needs Subscriber (with ServiceAddress), LOA person and type.

    The Subscriber's Name and the address fields are required whenever those elements are
    present (schema patches in `overrides`), so here only the NANP-conditional ones.
    """
    numbers = root.iterfind("TelephoneNumbers/TelephoneNumber")
    if not any(_text(tn).startswith(NANP_PREFIX) for tn in numbers):
        return []
    found: list[Violation] = []
    base = f"/{root.tag}"
    for name in _NANP_IMPORT_ELEMENTS:
        el = root.find(name)
        if el is None or (name != "Subscriber" and not _text(el)):
            found.append(_nanp_required(f"{base}/{name}", name))
    subscriber = root.find("Subscriber")
    if subscriber is not None and subscriber.find("ServiceAddress") is None:
        found.append(_nanp_required(f"{base}/Subscriber/ServiceAddress", "ServiceAddress"))
    return found


def _nanp_required(path: str, name: str) -> Violation:
    message = f"{where(path)} is required when the order has +1 (NANP) numbers"
    return Violation(path, "nanp-required", message, name)


def check_tn_option_order(root: etree._Element) -> list[Violation]:
    """NANPA-only options only on +1 numbers; no A2P class or campaign with off/delete/default."""
    found: list[Violation] = []
    base = f"/{root.tag}/TnOptionGroups"
    for index, group in enumerate(root.iterfind("TnOptionGroups/TnOptionGroup"), start=1):
        path = f"{base}/TnOptionGroup[{index}]"
        found += _nanpa_only(group, path)
        found += _a2p_without_campaign(group, path)
    return found


def _nanpa_only(group: etree._Element, path: str) -> list[Violation]:
    options = [name for name in _NANPA_OPTIONS if group.find(name) is not None]
    if not options:
        return []
    found: list[Violation] = []
    for index, number in enumerate(_numbers(group), start=1):
        if number and not number.startswith(NANP_PREFIX):
            item = f"{path}/TelephoneNumbers/TelephoneNumber[{index}]"
            message = (
                f"{where(item)} {quote(number)} is not a +1 (NANP) number, but the group sets "
                f"{', '.join(options)}, which only NANP numbers take"
            )
            found.append(Violation(item, "nanp-only", message, "TelephoneNumber"))
    return found


def _a2p_without_campaign(group: etree._Element, path: str) -> list[Violation]:
    action = _text(group.find("A2pSettings/Action"))
    if action not in _A2P_ACTIONS_WITHOUT_CAMPAIGN:
        return []
    found: list[Violation] = []
    for name in ("MessageClass", "CampaignId"):
        if group.find(f"A2pSettings/{name}") is not None:
            item = f"{path}/A2pSettings/{name}"
            message = f"{where(item)} is not allowed with Action {action}"
            found.append(Violation(item, "forbidden", message, name))
    return found


REQUEST_RULES: dict[str, Callable[[etree._Element], list[Violation]]] = {
    "CreateImportMessagingTnOrder": check_import_nanp,
    "CreateTnOptionOrder": check_tn_option_order,
}
"""The prose rules of each operation's request, by operationId."""
