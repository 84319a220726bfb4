"""References as staff type them: generated links, ids, titles and junk each parse to the right thing or to a BadReference."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from coalition.references import (
    AirtableRef,
    BadReference,
    ChannelRef,
    GoogleRef,
    parse_airtable,
    parse_channel,
    parse_google,
)

ID_CHARS = string.ascii_letters + string.digits + "-_"
google_ids = st.text(ID_CHARS, min_size=24, max_size=43).map(lambda s: "1" + s)
gids = st.integers(min_value=0, max_value=2_147_483_647)
accounts = st.integers(min_value=0, max_value=9)
words = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs", "Cf"), blacklist_characters="@:\t"
    ),
    min_size=1,
    max_size=15,
)
titles = st.lists(words, min_size=2, max_size=6).map(" ".join)
channel_ids = st.builds(
    lambda p, s: p + s,
    st.sampled_from("CG"),
    st.text(string.ascii_uppercase + string.digits, min_size=8, max_size=12),
)
channel_names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,40}", fullmatch=True)
workspaces = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
airtable_ids = st.text(string.ascii_letters + string.digits, min_size=14, max_size=14)


def sheet_url(file_id: str, account: int | None, tail: str, gid: int | None, query: str) -> str:
    """A spreadsheet link the way a browser shows it."""
    middle = f"u/{account}/" if account is not None else ""
    url = f"https://docs.google.com/spreadsheets/{middle}d/{file_id}{tail}"
    if query:
        url += "?" + query
    if gid is not None:
        url += f"#gid={gid}"
    return url


# ---------------------------------------------------------------- Google
@given(
    google_ids,
    st.none() | accounts,
    st.sampled_from(["", "/", "/edit", "/edit/", "/view", "/htmlview", "/copy"]),
    st.none() | gids,
    st.sampled_from(["", "usp=sharing", "usp=drive_link", "pli=1&usp=sharing"]),
)
def test_spreadsheet_links_give_the_id_and_the_tab(file_id, account, tail, gid, query) -> None:
    ref = parse_google(sheet_url(file_id, account, tail, gid, query), "spreadsheet")
    assert ref == GoogleRef("spreadsheet", id=file_id, gid=gid)


@given(google_ids, st.none() | gids)
def test_canonical_form_parses_back_to_the_same_reference(file_id, gid) -> None:
    ref = parse_google(sheet_url(file_id, None, "/edit", gid, ""), "spreadsheet")
    assert isinstance(ref, GoogleRef)
    assert parse_google(ref.canonical(), "spreadsheet") == ref


@given(google_ids, gids)
def test_gid_in_the_query_counts_too(file_id, gid) -> None:
    url = f"https://docs.google.com/spreadsheets/d/{file_id}/edit?gid={gid}#gid={gid}"
    assert parse_google(url, "spreadsheet") == GoogleRef("spreadsheet", id=file_id, gid=gid)


@given(google_ids, st.none() | accounts, st.sampled_from(["", "/edit", "/view"]))
def test_document_links(file_id, account, tail) -> None:
    middle = f"u/{account}/" if account is not None else ""
    url = f"https://docs.google.com/document/{middle}d/{file_id}{tail}?usp=sharing"
    assert parse_google(url, "document") == GoogleRef("document", id=file_id)


@given(google_ids, st.none() | accounts, st.sampled_from(["", "?usp=sharing", "?usp=drive_link"]))
def test_folder_links(file_id, account, query) -> None:
    middle = f"u/{account}/" if account is not None else ""
    url = f"https://drive.google.com/drive/{middle}folders/{file_id}{query}"
    assert parse_google(url, "folder") == GoogleRef("folder", id=file_id)


@given(google_ids, st.sampled_from(["spreadsheet", "document", "folder"]))
def test_bare_ids_and_wrapped_links(file_id, kind) -> None:
    assert parse_google(file_id, kind) == GoogleRef(kind, id=file_id)
    assert parse_google(f"  {file_id}\u200b ", kind) == GoogleRef(kind, id=file_id)
    url = sheet_url(file_id, None, "/edit", None, "")
    assert parse_google(f"<{url}>", "spreadsheet") == GoogleRef("spreadsheet", id=file_id)


@given(titles, st.sampled_from(["spreadsheet", "document", "folder"]))
def test_titles_stay_titles(title, kind) -> None:
    ref = parse_google(title, kind)
    assert isinstance(ref, GoogleRef)
    # Titles are kept as typed, in Unicode's composed form (NFC).
    assert ref.id is None and ref.title and ref.title in unicodedata.normalize("NFC", title)


@given(google_ids)
def test_a_link_of_the_wrong_kind_is_bad_not_guessed(file_id) -> None:
    doc = f"https://docs.google.com/document/d/{file_id}/edit"
    folder = f"https://drive.google.com/drive/folders/{file_id}"
    assert isinstance(parse_google(doc, "spreadsheet"), BadReference)
    assert isinstance(parse_google(folder, "spreadsheet"), BadReference)
    assert isinstance(parse_google(sheet_url(file_id, 0, "/edit", 3, ""), "document"), BadReference)


@given(
    st.sampled_from(
        [
            "https://example.org/sheet",
            "https://docs.google.com/spreadsheets/",
            "https://docs.google.com/forms/d/e/x/viewform",
            "http://drive.google.com/drive/my-drive",
            "https://casa.slack.com/archives/C0123ABCD",
            "n/a",
            "TBD",
            "intake@casa.org",
            "line one\nline two",
            "x" * 301,
        ]
    ),
    st.sampled_from(["spreadsheet", "document", "folder"]),
)
def test_junk_is_a_bad_reference_with_a_reason(junk, kind) -> None:
    ref = parse_google(junk, kind)
    assert isinstance(ref, BadReference)
    message = ref.message("Referral sheet")
    assert message.startswith("Referral sheet not understood (") and "Expected" in message
    assert len(message) < 300


@given(st.text(max_size=200))
def test_nothing_crashes_and_the_result_is_typed(text) -> None:
    for kind in ("spreadsheet", "document", "folder"):
        assert isinstance(parse_google(text, kind), GoogleRef | BadReference | type(None))
    assert isinstance(parse_channel(text), ChannelRef | BadReference | type(None))
    for kind in ("base", "table", "view"):
        assert isinstance(parse_airtable(text, kind), AirtableRef | BadReference | type(None))


@pytest.mark.parametrize("blank", [None, "", "   ", "\u200b", '""'])
def test_blank_is_none_everywhere(blank) -> None:
    assert parse_google(blank, "spreadsheet") is None
    assert parse_channel(blank) is None
    assert parse_airtable(blank, "base") is None


# ---------------------------------------------------------------- Slack
@given(channel_ids, workspaces, st.sampled_from(["", "/", "/p1700000000123456"]))
def test_channel_links_mentions_and_ids(channel_id, workspace, tail) -> None:
    want = ChannelRef(id=channel_id)
    assert parse_channel(channel_id) == want
    assert parse_channel(f"https://{workspace}.slack.com/archives/{channel_id}{tail}") == want
    assert parse_channel(f"https://app.slack.com/client/T0123ABCD/{channel_id}") == want
    assert parse_channel(f"<#{channel_id}>") == want
    assert parse_channel(f"<#{channel_id}|referrals>") == ChannelRef(
        id=channel_id, name="referrals"
    )


@given(channel_names)
def test_channel_names_with_or_without_the_hash(name) -> None:
    assume(not (name[:1] in "cg" and len(name) >= 9 and name.upper() == name))
    assert parse_channel(name) == ChannelRef(name=name)
    assert parse_channel(f"#{name}") == ChannelRef(name=name)
    assert parse_channel(f"#{name}".upper()) in (ChannelRef(name=name), ChannelRef(id=name.upper()))
    ref = parse_channel(f"#{name}")
    assert isinstance(ref, ChannelRef) and parse_channel(ref.canonical()) == ref


@pytest.mark.parametrize(
    "junk",
    [
        "#",
        "casa legal referrals",
        "https://casa.slack.com/messages",
        "https://example.org/archives/C0123ABCD",
        "ops@casa.org",
        "n/a",
    ],
)
def test_channel_junk_is_bad(junk) -> None:
    assert isinstance(parse_channel(junk), BadReference)


# ---------------------------------------------------------------- Airtable
@given(airtable_ids, airtable_ids, airtable_ids, st.sampled_from(["", "?blocks=hide", "/"]))
def test_airtable_links_give_each_id(a, t, v, tail) -> None:
    url = f"https://airtable.com/app{a}/tbl{t}/viw{v}{tail}"
    assert parse_airtable(url, "base") == AirtableRef(
        "base", id=f"app{a}", base_id=f"app{a}", table_id=f"tbl{t}"
    )
    assert parse_airtable(url, "table").id == f"tbl{t}"
    assert parse_airtable(url, "view").id == f"viw{v}"
    assert isinstance(parse_airtable(f"https://airtable.com/app{a}", "table"), BadReference)


@given(airtable_ids)
def test_airtable_ids_and_names(suffix) -> None:
    assert parse_airtable(f"app{suffix}", "base") == AirtableRef("base", id=f"app{suffix}")
    assert isinstance(parse_airtable(f"tbl{suffix}", "base"), BadReference)
    assert parse_airtable("Coalition", "base") == AirtableRef("base", name="Coalition")
    assert parse_airtable("Socios / Partners", "table") == AirtableRef(
        "table", name="Socios / Partners"
    )


@given(titles)
def test_airtable_names_are_names(name) -> None:
    ref = parse_airtable(name, "table")
    assert isinstance(ref, AirtableRef) and ref.name and ref.id is None
