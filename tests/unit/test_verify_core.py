"""The pure parts of snapshot and verify: reading tndetails for one account, in-service pages,
what each number should be after a run, and how it drifts."""

from __future__ import annotations

import pytest

from orchestrator.api.number_state import (
    NumberState,
    number_state_from_details,
    parse_inservice_page,
)
from orchestrator.cutover.expectation import StepEffect, compare, expect, needs_details
from orchestrator.errors import XmlError
from orchestrator.plan import StepKind

VOICE_ELSEWHERE = b"""<?xml version="1.0"?><TelephoneNumberResponse><TelephoneNumberDetails>
<FullNumber>+12092151016</FullNumber><Status>Inservice</Status><AccountId>12346167</AccountId>
<TnAttributes><TnAttribute>Hosted</TnAttribute></TnAttributes>
<Site><Id>494</Id></Site><SipPeer><PeerId>500033</PeerId></SipPeer>
<MessagingSettings><SmsEnabled>false</SmsEnabled></MessagingSettings>
<HostedTelephoneNumberDetails><HostedTelephoneNumberDetail><AccountId>12346168</AccountId>
<Site><Id>495</Id></Site><SipPeer><PeerId>500034</PeerId></SipPeer>
<MessagingSettings><SmsEnabled>true</SmsEnabled><CampaignId>CX1</CampaignId>
<MessageClass>A</MessageClass></MessagingSettings></HostedTelephoneNumberDetail>
</HostedTelephoneNumberDetails></TelephoneNumberDetails></TelephoneNumberResponse>"""


def test_tndetails_is_read_for_the_migrated_account() -> None:
    """Voice on one account, hosted messaging on another (the excerpt's example): the hosted
    detail of the account being migrated wins (hosted); the voice owner reads its top level (not
    hosted there, though the top level says Hosted); any other account sees the number as not
    on it."""
    hosted = number_state_from_details(VOICE_ELSEWHERE, "+12092151016", "12346168")
    assert (hosted.on_account, hosted.site_id, hosted.sip_peer_id, hosted.sms,
            hosted.campaign_id, hosted.message_class) == ("true", "495", "500034", "true",
                                                          "CX1", "A")  # fmt: skip
    assert hosted.hosted == "true"
    voice = number_state_from_details(VOICE_ELSEWHERE, "+12092151016", "12346167")
    assert (voice.site_id, voice.sms, voice.hosted) == ("494", "false", "false")
    alone = VOICE_ELSEWHERE.split(b"<HostedTelephoneNumberDetails>")[0] + (
        b"</TelephoneNumberDetails></TelephoneNumberResponse>"
    )  # hosted here, no other account holding its hosted part
    assert number_state_from_details(alone, "+12092151016", "12346167").hosted == "true"
    other = number_state_from_details(VOICE_ELSEWHERE, "+12092151016", "1")
    assert (other.on_account, other.detailed) == ("false", True)
    with pytest.raises(XmlError):
        number_state_from_details(b"<TelephoneNumberResponse/>", "+1", "1")


def test_an_in_service_page_gives_its_numbers_and_the_next_query() -> None:
    """`Links/next` as the API writes it (`Link=<url>;rel="next";`) becomes the next query."""
    page = parse_inservice_page(
        b"<TNs><TotalCount>3</TotalCount><Links><next>Link=&lt;https://x/api/v2/accounts/1/"
        b'inserviceNumbers?page=2&amp;size=2&gt;;rel="next";</next></Links><TelephoneNumbers>'
        b"<Count>2</Count><TelephoneNumber>+18043024183</TelephoneNumber>"
        b"<TelephoneNumber>+18042121778</TelephoneNumber></TelephoneNumbers></TNs>"
    )
    assert page.total == 3 and page.numbers == ("+18043024183", "+18042121778")
    assert page.next_query == {"page": "2", "size": "2"}


STEPS = [
    StepEffect(1, "move", StepKind.IMPORT, {"site_id": "743", "sip_peer_id": "303716"}),
    StepEffect(2, "release", StepKind.REMOVE, {}),
    StepEffect(3, "move:sms-on", StepKind.MESSAGING, {"sms": "on", "role": "sms"}, 1),
    StepEffect(4, "move:sms-on:a2p", StepKind.MESSAGING,
               {"role": "a2p", "a2p": {"campaign_id": "C1", "action": "asSpecified"}}, 3),
]  # fmt: skip


def test_expectations_follow_each_numbers_outcome_step_by_step() -> None:
    """A chained step counts right after its import (whatever the step ids); a removal clears
    what came before; a failed step expects the snapshot's value; an unknown outcome, nothing;
    A2P settings that "need action" (refused) are not expected."""
    before = {"+1b": NumberState("+1b", "false", detailed=False)}
    got = expect(
        STEPS,
        [("move", "+1a", "succeeded"), ("move:sms-on", "+1a", "succeeded"),
         ("move:sms-on:a2p", "+1a", "needs_action"), ("move:sms-on:a2p", "+1e", "succeeded"),
         ("move", "+1b", "failed"),
         ("move", "+1c", "in_order"), ("move", "+1d", "succeeded"),
         ("release", "+1d", "succeeded")],
        before,
    )  # fmt: skip
    a = {k: (v.value, v.step) for k, v in got["+1a"].items()}
    assert a == {
        "on_account": ("true", "move:sms-on:a2p"),
        "site_id": ("743", "move"),
        "sip_peer_id": ("303716", "move"),
        "sms": ("true", "move:sms-on"),
    }  # A2P "needs action": refused, so no campaign is expected
    assert {k: v.value for k, v in got["+1b"].items()} == {"on_account": "false"}
    assert "+1c" not in got
    assert {k: v.value for k, v in got["+1e"].items()} == {
        "on_account": "true",
        "campaign_id": "C1",
    }
    assert {k: v.value for k, v in got["+1d"].items()} == {"on_account": "false"}
    assert needs_details(got["+1a"]) and not needs_details(got["+1b"])


def test_compare_reports_each_drifted_field_or_only_the_number_gone() -> None:
    """Fields compare one by one; a number expected on the account that is off drifts on
    `on_account` alone; one expected off that is off matches."""
    fields = expect(STEPS[:1], [("move", "+1a", "succeeded")], {})["+1a"]
    moved = NumberState("+1a", "true", "486", "303716", detailed=True)
    assert [(d.field, d.expected, d.actual) for d in compare("+1a", fields, moved)] == [
        ("site_id", "743", "486")
    ]
    gone = NumberState("+1a", "false", detailed=True)
    assert [d.field for d in compare("+1a", fields, gone)] == ["on_account"]
    removed = expect(STEPS[1:2], [("release", "+1a", "succeeded")], {})["+1a"]
    assert compare("+1a", removed, gone) == []
