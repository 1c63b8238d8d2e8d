"""v1 artefact readers: XML bodies, reports, listings, SIP-peer TN bodies, reports and lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.v1.intent import Action, InputKind
from orchestrator.v1.orders import has_v1_xml, listing_page_info, read_xml_input
from orchestrator.v1.tabular import ListDefaults, decode, is_inventory_report, read_table

V1 = Path(__file__).parents[1] / "fixtures" / "v1"


def read(name: str):
    path = V1 / name
    return read_xml_input(path.read_bytes(), str(path))


def numbers(result, action=None):
    return [e.raw for e in result.entries if action is None or e.action is action]


def test_external_tns_import_body_gives_imports_with_site_peer_and_loa():
    """The seed's IMPORT body: four imports on site 743, SIP peer 303716, LOA CARRIER."""
    result = read("external_tns_import.xml")
    assert result.kind is InputKind.EXTERNAL_TNS_BODY
    assert numbers(result, Action.IMPORT) == [
        "9199918388", "4158714245", "4352154439", "4352154466",
    ]  # fmt: skip
    settings = {e.settings for e in result.entries}
    assert len(settings) == 1
    (s,) = settings
    assert (s.site_id, s.sip_peer_id, s.loa_type) == ("743", "303716", "CARRIER")
    assert result.entries[0].line == 9
    assert result.entries[0].origin.customer_order_id == "ICPA123ABC"


def test_external_tns_remove_body_gives_removals_without_site():
    """The seed's REMOVE body has no SiteId and needs none."""
    result = read("external_tns_remove.xml")
    assert numbers(result, Action.REMOVE) == ["9199918388", "4158714245"]
    assert all(e.settings is None for e in result.entries)


def test_concatenated_bodies_are_read_one_by_one_with_their_lines():
    """Three documents in one file (each with an XML declaration), in file order."""
    result = read("external_tns_bodies_many.xml")
    assert result.documents == 3
    assert [(e.raw, e.action.value) for e in result.entries] == [
        ("9198064286", "import"), ("6673502735", "import"), ("9844741417", "import"),
        ("4352342683", "import"), ("6673502735", "remove"),
    ]  # fmt: skip
    second = result.entries[2]
    assert second.settings is not None
    assert (second.settings.site_id, second.settings.sip_peer_id) == ("744", None)
    assert second.settings.loa_type == "SUBSCRIBER"
    assert result.entries[-1].line == 28


def test_curl_script_bodies_are_found_inside_shell_quotes():
    """Bodies passed with `curl -d '...'` are read where they stand in the script."""
    result = read("curl_external_tns.sh")
    assert numbers(result, Action.IMPORT) == ["3035133456", "3038565530", "2122177954"]
    assert numbers(result, Action.REMOVE) == ["2129332865"]
    assert result.entries[0].line == 17


def test_listing_counts_only_successful_numbers_of_finished_orders_in_date_order():
    """COMPLETE and PARTIAL count (minus their errors); FAILED are failures; PROCESSING a note."""
    result = read("external_tns_orders_listing.xml")
    assert result.kind is InputKind.EXTERNAL_TNS_REPORT
    assert [(e.raw, e.action.value, e.origin.order_date[:10]) for e in result.entries] == [
        ("9199918388", "import", "2023-03-02"),
        ("4158714245", "import", "2023-03-02"),
        ("4352154439", "import", "2023-03-03"),
        ("9199918388", "remove", "2023-03-05"),
    ]
    failed = {(f.raw, f.code, f.origin.status) for f in result.failures}
    assert failed == {("4352154466", "13552", "PARTIAL"), ("3369788814", "25060", "FAILED")}
    assert any("PROCESSING" in n.message and "3366750329" not in n.message for n in result.notes)
    assert result.account_ids == {"9900012"}


def test_single_order_get_counts_when_complete():
    """A saved GET of a COMPLETE externalTns order counts all its numbers."""
    result = read("external_tns_order_get.xml")
    assert len(numbers(result, Action.IMPORT)) == 4
    assert result.entries[0].origin.order_id == "7e0c8d1a-2b3c-4d5e-9f60-718293a4b5c6"


def test_import_tn_order_body_keeps_subscriber_and_defaults_loa_to_subscriber():
    """v1 ImportTnOrder: SUBSCRIBER by default, subscriber and LOA person kept."""
    result = read("import_tn_order.xml")
    s = result.entries[0].settings
    assert s is not None
    assert s.loa_type == "SUBSCRIBER"
    assert s.subscriber is not None and s.subscriber.city == "Denver"
    assert s.loa_authorizing_person == "The Authguy"


def test_remove_imported_tn_order_body_gives_removals():
    """v1 RemoveImportedTnOrder bodies feed the remove step."""
    assert numbers(read("remove_imported_tn_order.xml"), Action.REMOVE) == [
        "7048331066", "7048011552",
    ]  # fmt: skip


def test_sip_peer_body_takes_number_site_and_peer_from_the_file_path():
    """A saved PUT body without FullNumber: the number, site and peer come from its path."""
    result = read("captures/sites/743/sippeers/303716/tns/3369006863.xml")
    (entry,) = result.entries
    assert (entry.raw, entry.action) == ("3369006863", Action.SMS_OFF)
    assert (entry.origin.site_id, entry.origin.sip_peer_id) == ("743", "303716")


def test_request_log_bodies_take_site_and_peer_from_the_request_line():
    """Log lines: plain, multi-line and JSON-escaped bodies; answers are skipped as notes."""
    result = read("sippeer_requests.log")
    got = [(e.raw, e.action.value, e.origin.site_id, e.line) for e in result.entries]
    assert got == [
        ("3369026704", "sms-on", "743", 1),
        ("3363447010", "sms-off", "750", 5),
        ("3362407691", "sms-on", "743", 11),
        ("3369026704", "sms-off", "743", 13),
    ]
    assert len(result.notes) == 1 and "answer" in result.notes[0].message


def test_sip_peer_body_without_messaging_is_a_note_not_an_intent():
    """A SIP-peer TN body changing only voice settings has nothing to migrate."""
    body = (
        b"<SipPeerTelephoneNumber><FullNumber>9195550100</FullNumber>"
        b"<CallingNameDisplay>true</CallingNameDisplay></SipPeerTelephoneNumber>"
    )
    result = read_xml_input(body, "voice.xml")
    assert result.entries == []
    assert "nothing to migrate" in result.notes[0].message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("bad/bad_action.xml", "bad_action.xml:3: <Action>: <Action> 'UPDATE'"),
        (
            "bad/loa_placeholder.xml",
            "loa_placeholder.xml:1: <ExternalTnsOrder>: <LoaType> '[ CARRIER | SUBSCRIBER ]'",
        ),
        ("bad/truncated.xml", "truncated.xml: malformed or truncated XML"),
        ("bad/not_v1.xml", "not_v1.xml:1: <Order>: not a v1 document"),
    ],
)
def test_bad_documents_fail_naming_file_line_and_element(name, fragment):
    """Each bad input fails with one line naming the file, the line and the element."""
    with pytest.raises(InputError) as info:
        read(name)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_hostile_document_is_refused():
    """A DTD-bearing document is refused by the hardened parser, naming the file."""
    path = V1.parent / "hostile" / "xxe_file.xml"
    with pytest.raises(InputError, match=r"xxe_file\.xml: document has a DOCTYPE"):
        read_xml_input(path.read_bytes(), str(path))


def test_sip_peer_body_with_mismatched_path_number_fails():
    """FullNumber and the request path naming different numbers is refused."""
    text = (
        b"PUT https://dashboard.bandwidth.com/api/v1/accounts/1/sites/743/sippeers/303716/tns/9195550100\n"
        b"<SipPeerTelephoneNumber><FullNumber>9195550199</FullNumber><MessagingSettings>"
        b"<SmsEnabled>true</SmsEnabled></MessagingSettings></SipPeerTelephoneNumber>\n"
    )
    with pytest.raises(InputError, match="does not match 9195550100"):
        read_xml_input(text, "put.log")


def test_unclosed_embedded_document_names_its_line():
    """A request log cut in the middle of a body fails at the body's line."""
    text = b"line one\nbody=<ExternalTnsOrder><Action>REMOVE</Action>\n"
    with pytest.raises(InputError, match=r"cut.log:2: <ExternalTnsOrder> is never closed"):
        read_xml_input(text, "cut.log")


def test_detection_sees_embedded_documents_only():
    """Text with a v1 body inside is XML input; a plain list is not."""
    assert has_v1_xml(
        "curl -d '<RemoveImportedTnOrder><TelephoneNumbers/></RemoveImportedTnOrder>'"
    )
    assert not has_v1_xml("9195550100\n9195550101\n")


def test_inventory_report_title_is_recognised_and_skipped():
    """The seed's inventory report: a title line, then numbers in two formats."""
    text = (V1 / "inventory_report.csv").read_text()
    assert is_inventory_report(text)
    result = read_table(text, "inv.csv", Action.SMS_ON, ListDefaults())
    assert result.kind is InputKind.INVENTORY_REPORT
    assert [e.raw for e in result.entries][:2] == ["+441224003018", "+441224003020"]
    assert [e.line for e in result.entries][-1] == 7


def test_inventory_report_columns_give_site_and_peer_per_row():
    """Site and SIP peer columns of the report decide each import's settings."""
    text = (V1 / "inventory_report_columns.csv").read_text()
    result = read_table(text, "inv.csv", Action.IMPORT, ListDefaults())
    sites = [(e.raw, e.settings.site_id, e.settings.sip_peer_id) for e in result.entries]
    assert sites == [
        ("9198064286", "743", "303716"), ("6673502735", "743", "303716"),
        ("9844741417", "744", "303900"),
    ]  # fmt: skip


def test_plain_list_skips_comments_and_blank_lines_keeping_line_numbers():
    """A one-per-line list: comments (whole-line and inline) and blank lines skipped."""
    text = (V1 / "numbers.txt").read_text()
    assert not is_inventory_report(text)
    result = read_table(text, "numbers.txt", Action.REMOVE, ListDefaults())
    assert [(e.raw, e.line) for e in result.entries] == [
        ("1-303-513-3456", 2), ("13038565530", 3), ("2122177954", 4), ("12129332865", 6),
    ]  # fmt: skip


def test_list_feeding_imports_needs_a_site():
    """Importing a list's numbers without --site or a site column is refused up front."""
    with pytest.raises(InputError, match="names no site"):
        read_table("9195550100\n", "n.txt", Action.IMPORT, ListDefaults())


def test_binary_list_is_refused():
    """A spreadsheet saved as .xlsx is not a list: a clear error, not garbage numbers."""
    with pytest.raises(InputError, match="binary"):
        decode((V1 / "bad" / "export.xlsx").read_bytes(), "export.xlsx")


def test_listing_page_info_reads_total_next_link_and_oldest_date():
    """Paging facts: TotalCount, the query of Links/next, order ids and the oldest date."""
    body = (
        b"<ExternalTnsOrders><TotalCount>3</TotalCount><Links><first>Link=&lt;https://x/a?page=1"
        b'&amp;size=2&gt;;rel="first";</first><next>Link=&lt;https://x/a?page=2&amp;size=2&gt;;'
        b'rel="next";</next></Links><ExternalTnsOrder><OrderId>a</OrderId><OrderCreateDate>'
        b"2023-03-05T10:00:00Z</OrderCreateDate></ExternalTnsOrder><ExternalTnsOrder><OrderId>b"
        b"</OrderId><OrderCreateDate>2023-03-01T10:00:00Z</OrderCreateDate></ExternalTnsOrder>"
        b"</ExternalTnsOrders>"
    )
    info = listing_page_info(body, "api")
    assert info.total_count == 3
    assert info.next_query == "page=2&size=2"
    assert info.order_ids == ("a", "b")
    assert info.oldest_date == "2023-03-01"
