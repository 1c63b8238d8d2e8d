"""The API error codes the sandbox emits, with their documented descriptions.

Texts follow Bandwidth's error catalogue (shared/reference/errors-catalogue.md) and the reference
(shared/reference/bandwidth-api.md); where only a paraphrase is known, the description is marked
[I] in a comment. `%s` marks what the API fills in (`describe`). Pure data.
"""

from __future__ import annotations

DESCRIPTIONS: dict[int, str] = {
    1000: "An internal server error occurred. Please try again later.",
    1001: "Access Denied",
    1003: "%s is required",
    1005: "%s is not allowed",
    1006: "%s must be between %s and %s (bounds are included)",
    1008: "'%s' is not a valid UUID",
    1009: "'%s' is duplicated",
    1011: "%s is too long. Max length %s characters",
    1012: "%s is too short. Min length %s characters",
    1019: "Bad request encountered. Please check your request and try again.",
    1022: "TelephoneNumber is in an invalid format",
    5070: "Telephone number is invalid.",
    5073: "Telephone number is required.",
    5076: "Telephone number is not available.",
    5077: "There are no valid telephone numbers.",
    5081: "Number Format '%s' is invalid.",
    5093: "Order cannot contain duplicate telephone numbers",
    5095: "The count of telephone numbers in order exceeds the maximum size of %s",
    5113: "Sms '%s' is invalid. Valid values are: on, off, unchanged",
    5115: "At least one of the TN option attributes must be applied for %s",
    5128: "Only SMS attribute can be changed for External telephone number(s).",
    5132: "SMS attribute should be 'ON' for provisioning A2P",
    5134: "Attribute %s is incompatible with such 'Action' values: 'off, systemDefault, unchanged'",
    5089: "RPID Format '%s' is invalid.",
    5138: "Action value is invalid. Valid values are: 'unchanged', 'systemDefault', 'off', "
    "'asSpecified'.",
    5158: "Telephone number hasn't been previously imported.",
    5166: "Sip Peer doesn't have Sms feature.",
    5200: "Origination route plan is not enabled for the account",
    7201: "%s is not a valid NANPA telephone number.",
    7309: "The site id was not supplied or is invalid.",
    7310: "The site id submitted does not have a default SIP peer associated to it.",
    7311: "The sippeer id is invalid for this site.",
    7312: "The sippeer id is invalid.",
    7314: "The number of telephone numbers provided exceeds the maximum %s",  # [I]
    7316: "At least one telephone number must be provided.",  # [I]
    7318: "Customer order ID is invalid. Only alphanumeric values, dashes and spaces are allowed. "
    "Max length is 40 characters.",
    7360: "Telephone number list can't contain duplicates.",  # [I]
    7518: "Telephone Number Not Active.",
    13536: "Telephone number is not assigned to this account, site or SIP peer.",  # [I]
    14500: "Incorrect order type. Valid values: portins, portouts, orders, disconnects, "
    "importToAccounts, dldas, lsrorders, e911s, tnoptions, externalTns, lidbs, bulkPortins, "
    "importtnorders, removeImportedTnOrders, csrs, emergencyEndpointGroup, "
    "emergencyNotificationGroup, tollFreePortingValidations",
    14501: "Subscription object is invalid",
    14503: "Callback URL is empty",
    14505: "Basic authentication must contain both a non-blank username and password",
    14506: "Callback URL is invalid",
    14507: "Incorrect event type. Valid values: MESSAGING_LOST",
    14508: "OrderType or EventType should be specified.",
    16008: "A subscription with these parameters already exists.",  # [I]
    19001: "The telephone number is not in service.",  # [I]
    19004: "The losing account of the number has not been migrated.",  # [I]
    19005: "Messaging route of %s is not configured.",  # [I]
    19006: "Bandwidth numbers cannot be imported by this account at this time.",
    19010: "Unable to provision the telephone number.",  # [I]
    25000: "Action is absent or invalid. Possible values: import, remove",
    25110: "LoaType is absent or invalid. Possible values: carrier, subscriber",
    25131: "The Subscriber Name is too long. Maximum length is 45 characters.",
}

#: A number already imported for hosted messaging on another account: its messaging route
#: belongs elsewhere [I]; the catalogue's closest code is 19005.
IMPORTED_ELSEWHERE = 19005


def describe(code: int, *args: str) -> str:
    """The description for `code`, with `%s` placeholders filled from `args`."""
    text = DESCRIPTIONS.get(code, f"Error {code}.")
    if args and "%s" in text:
        return text % args
    return text
