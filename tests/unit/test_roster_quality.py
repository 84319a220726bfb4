"""Data-quality checks: duplicates, primary contact, lapsed dues, stale verification, stable Data issues text."""

from __future__ import annotations

from datetime import date

from coalition.roster.models import (
    Code,
    Contact,
    ContactIndex,
    Finding,
    Member,
    MemberIndex,
    RosterIndex,
)
from coalition.roster.quality import assess, email_key, keyed_hash, org_key, phone_key, render

TODAY = date(2026, 6, 15)
SECRET = "test-secret"


def member(mid: str, name: str, **kw: object) -> Member:
    kw.setdefault("dues_paid_through", date(2026, 12, 31))
    kw.setdefault("last_verified", date(2026, 1, 1))
    return Member(id=mid, name=name, **kw)  # type: ignore[arg-type]


def contact(cid: str, name: str, org: str | None, **kw: object) -> Contact:
    return Contact(id=cid, name=name, member_ids=[org] if org else [], **kw)  # type: ignore[arg-type]


def codes(found: list[Finding]) -> list[str]:
    return sorted(f.code for f in found)


def run(
    members: list[Member], contacts: list[Contact], index: RosterIndex | None = None, **kw: object
):
    return assess(
        {m.id: m for m in members},
        {c.id: c for c in contacts},
        index or RosterIndex(),
        TODAY,
        SECRET,
        **kw,  # type: ignore[arg-type]
    )


def test_clean_member_has_no_issues() -> None:
    result = run([member("m1", "Casa Esperanza")], [contact("c1", "Ana Ruiz", "m1", primary=True)])
    assert result.members["m1"] == [] and result.member_text["m1"] == ""
    assert result.primary["m1"].id == "c1"


def test_duplicate_organizations_by_similar_name() -> None:
    result = run(
        [
            member("m1", "Casa Esperanza, Inc."),
            member("m2", "casa esperanza"),
            member("m3", "Immigrant Legal Center of Boston"),
            member("m4", "Immigrant Legal Center of Austin"),
        ],
        [contact(f"c{i}", f"Person {i}", f"m{i}") for i in range(1, 5)],
    )
    assert [f.ref for f in result.members["m1"] if f.code == Code.DUPLICATE_MEMBER] == ["m2"]
    assert [f.ref for f in result.members["m2"] if f.code == Code.DUPLICATE_MEMBER] == ["m1"]
    assert Code.DUPLICATE_MEMBER not in codes(result.members["m3"])
    assert "Possible duplicate of member casa esperanza (m2)." in result.member_text["m1"]


def test_short_names_must_match_exactly() -> None:
    result = run([member("m1", "CASA"), member("m2", "CASO")], [])
    assert Code.DUPLICATE_MEMBER not in codes(result.members["m1"])


def test_duplicate_against_remembered_member() -> None:
    index = RosterIndex(members={"m9": MemberIndex("m9", "Centro Legal de la Raza")})
    result = run([member("m1", "Centro Legal de La Raza")], [], index)
    assert [f.ref for f in result.members["m1"] if f.code == Code.DUPLICATE_MEMBER] == ["m9"]


def test_removed_member_is_not_a_duplicate() -> None:
    index = RosterIndex(members={"m9": MemberIndex("m9", "Centro Legal", removed=True)})
    result = run([member("m1", "Centro Legal")], [], index)
    assert Code.DUPLICATE_MEMBER not in codes(result.members["m1"])


def test_duplicate_contacts_by_email_phone_and_name() -> None:
    people = [
        contact("c1", "Ana Ruiz", "m1", email="ana@example.org", role="primary"),
        contact("c2", "Someone Else", "m2", email="ANA@example.org"),
        contact("c3", "Bo Chen", "m2", phone="+16175550100"),
        contact("c4", "Chen, Bo", "m2"),
        contact("c5", "Di Park", "m3", phone="+16175550100"),
    ]
    result = run(
        [member("m1", "One Org"), member("m2", "Two Org"), member("m3", "Three Org")], people
    )
    refs = {
        cid: sorted(f.ref for f in result.contacts[cid] if f.code == Code.DUPLICATE_CONTACT)
        for cid in ("c1", "c2", "c3", "c4", "c5")
    }
    assert refs == {"c1": ["c2"], "c2": ["c1"], "c3": ["c4", "c5"], "c4": ["c3"], "c5": ["c3"]}
    assert "Possible duplicate of contact Someone Else (same email)." in result.contact_text["c1"]


def test_duplicate_contact_against_index_by_keyed_hash() -> None:
    index = RosterIndex(
        contacts={"c9": ContactIndex("c9", ("m2",), email_key=email_key(SECRET, "ana@example.org"))}
    )
    result = run(
        [member("m1", "One Org")], [contact("c1", "Ana", "m1", email="Ana@Example.org")], index
    )
    assert [f.ref for f in result.contacts["c1"] if f.code == Code.DUPLICATE_CONTACT] == ["c9"]


def test_same_name_in_different_orgs_is_not_a_duplicate() -> None:
    result = run(
        [member("m1", "One Org"), member("m2", "Two Org")],
        [contact("c1", "Maria Garcia", "m1"), contact("c2", "María García", "m2")],
    )
    assert result.contacts["c1"] == [] and result.contacts["c2"] == []


def test_missing_primary_contact() -> None:
    result = run(
        [
            member("m1", "No People"),
            member("m2", "Two People"),
            member("m3", "One Person"),
            member("m4", "Role Org"),
        ],
        [
            contact("c1", "A Person", "m2"),
            contact("c2", "B Person", "m2"),
            contact("c3", "C Person", "m3", primary=False, role="Primary contact"),
            contact("c4", "D Person", "m3", primary=True),
            contact("c5", "E Person", "m4", role="Primary contact"),  # no checkbox in this base
        ],
    )
    assert codes(result.members["m1"]) == [Code.MISSING_PRIMARY_CONTACT]
    assert codes(result.members["m2"]) == [Code.MISSING_PRIMARY_CONTACT]
    assert "none of its 2 contacts is marked primary" in result.member_text["m2"]
    assert result.members["m3"] == [] and result.primary["m3"].id == "c4"
    assert result.members["m4"] == [] and result.primary["m4"].id == "c5"


def test_dues_and_verification() -> None:
    result = run(
        [
            member("m1", "Lapsed Org", dues_paid_through=date(2026, 6, 14)),
            member("m2", "Paid Today Org", dues_paid_through=TODAY),
            member("m3", "Stale Org", last_verified=date(2025, 6, 14)),
            member("m4", "Never Org", last_verified=None),
            member("m5", "Fresh Org", last_verified=date(2025, 6, 15)),
        ],
        [contact(f"c{i}", f"P{i} Person", f"m{i}", primary=True) for i in range(1, 6)],
    )
    assert codes(result.members["m1"]) == [Code.DUES_LAPSED]
    assert result.members["m2"] == []
    assert codes(result.members["m3"]) == [Code.NOT_VERIFIED]
    assert codes(result.members["m4"]) == [Code.NOT_VERIFIED]
    assert result.members["m5"] == []


def test_verification_check_can_be_off() -> None:
    result = run(
        [member("m4", "Never Org", last_verified=None)],
        [contact("c", "X Person", "m4", primary=True)],
        check_verified=False,
    )
    assert result.members["m4"] == []


def test_contact_problems_summarized_on_org_without_values() -> None:
    bad = contact("c1", "Ana Ruiz", "m1", role="primary")
    bad.problems.append(Finding(Code.INVALID_PHONE, "Phone not understood: 555-01"))
    result = run([member("m1", "One Org")], [bad])
    assert "Contact Ana Ruiz: phone not valid." in result.member_text["m1"]
    assert "555-01" not in result.member_text["m1"]
    assert "555-01" in result.contact_text["c1"]  # the contact's own record may quote it


def test_contact_links() -> None:
    result = run(
        [member("m1", "One Org")],
        [contact("c1", "Lone Person", None), contact("c2", "Lost Person", "recGONE")],
    )
    assert codes(result.contacts["c1"]) == [Code.MISSING_ORGANIZATION]
    assert codes(result.contacts["c2"]) == [Code.LINKED_RECORD_MISSING]


def test_render_is_stable_and_ordered() -> None:
    found = [
        Finding(Code.NOT_VERIFIED, "Never verified."),
        Finding(Code.MISSING_NAME, "No organization name."),
        Finding(Code.NOT_VERIFIED, "Never verified."),
    ]
    assert render(found) == "• No organization name.\n• Never verified."
    assert render(reversed(found)) == render(found)
    assert render([]) == ""


def test_render_caps_lines() -> None:
    found = [Finding(Code.INVALID_VALUE, f"thing {i:03}") for i in range(100)]
    lines = render(found, max_lines=5).splitlines()
    assert len(lines) == 5 and lines[-1] == "• …and 96 more."


def test_keyed_hashes() -> None:
    assert email_key("k", "A@x.org") == email_key("k", "a@x.org")
    assert email_key("k", "a@x.org") != email_key("other", "a@x.org")
    assert phone_key("k", None) is None
    assert "a@x.org" not in keyed_hash("k", "a@x.org")
    assert org_key("The Casa Esperanza, Inc.") == "casa esperanza"


def test_records_without_names() -> None:
    result = run([member("m1", "")], [contact("c1", "", "m1")])
    assert "• No organization name." in result.member_text["m1"]
    assert codes(result.contacts["c1"]) == [Code.MISSING_NAME]
    assert "Contact c1: no name." in result.member_text["m1"]


def test_names_that_differ_by_a_number_are_different_bodies() -> None:
    result = run(
        [
            member("m1", "SEIU Local 32BJ"),
            member("m2", "SEIU Local 1199"),
            member("m3", "District 4 Council"),
            member("m4", "District 5 Council"),
        ],
        [],
    )
    assert all(Code.DUPLICATE_MEMBER not in codes(found) for found in result.members.values())


def test_a_name_alike_many_lists_its_closest_few() -> None:
    many = [member(f"m{i:02}", "Immigrant Justice Network" + "." * (i % 3)) for i in range(12)]
    result = run(many, [])
    assert all(
        len([f for f in result.members[m.id] if f.code == Code.DUPLICATE_MEMBER]) == 5 for m in many
    )
