"""The app's modals: valid views as Slack checks them, and what people submit read back strictly."""

from __future__ import annotations

import pytest

from bot import modals
from sandbox.slack.blocks import validate_view
from sandbox.slack.interactive import element_state

CHANNELS = ["organizing", "policy", "organizing-west"]
REGIONS = ["West", "Southwest"]


def submitted(view: dict, values: dict[str, object]) -> dict:
    """The view as a view_submission carries it, filled the way Slack's client reports inputs."""
    state = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        state[block["block_id"]] = {
            element["action_id"]: element_state(element, values.get(block["block_id"]))
        }
    return {**view, "state": {"values": state}}


def test_every_modal_is_a_view_slack_accepts() -> None:
    cases = [
        modals.CaseChoices(
            "INT-A", "INT-A is waiting", ("• Beta fits",), ("• Gamma: no county",), {"recB": "Beta"}
        ),
        modals.CaseChoices("INT-B", "INT-B is waiting", (), (), {"recC": "C" * 100}),
    ]
    for view in (
        modals.alert_view("C1", "organizing", CHANNELS, REGIONS),
        modals.decline_view("REF-A-1", "C1", "ref-alpha", "1.2"),
        modals.choose_partner_view(cases, "C1", "1.2"),
    ):
        assert validate_view(view) == []
        assert modals.metadata(view)["c"] == "C1"


def test_campaign_draft_is_read_and_checked() -> None:
    view = modals.alert_view("C1", "organizing", CHANNELS, REGIONS)
    draft, errors = modals.read_campaign(
        submitted(
            view,
            {
                "title": "  Rally   today ",
                "message": "Come\n",
                "channels": ["policy"],
                "regions": ["West"],
                "link": "https://x.org/r",
            },
        ),
        CHANNELS,
        REGIONS,
    )
    assert errors == {} and draft is not None
    assert draft.airtable_fields() == {
        "Title": "Rally today",
        "Message": "Come",
        "Status": "Draft",
        "Link": "https://x.org/r",
        "Channels": ["policy"],
        "Regions": ["West"],
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": " ", "message": "m"}, "title"),
        ({"title": "t", "message": ""}, "message"),
        ({"title": "t", "message": "m", "link": "javascript:alert(1)"}, "link"),
        ({"title": "t", "message": "m", "link": "https://a b"}, "link"),
    ],
)
def test_a_bad_draft_says_which_input_is_wrong(values: dict, field: str) -> None:
    view = modals.alert_view("C1", "organizing", CHANNELS, REGIONS)
    state = {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in values.items()}
    draft, errors = modals.read_campaign({**view, "state": {"values": state}}, CHANNELS, REGIONS)
    assert draft is None and field in errors


def test_channels_not_offered_are_dropped() -> None:
    view = {
        "state": {
            "values": {
                "title": {"value": {"value": "t"}},
                "message": {"value": {"value": "m"}},
                "channels": {
                    "value": {"selected_options": [{"value": "general"}, {"value": "policy"}]}
                },
            }
        }
    }
    draft, _ = modals.read_campaign(view, CHANNELS, REGIONS)
    assert draft is not None and draft.channels == ("policy",)


def test_decline_reason_must_be_one_of_ours() -> None:
    view = modals.decline_view("REF-A-1", "C1", "ref-alpha", "1.2")
    assert modals.read_decline(submitted(view, {"reason": "no_capacity"})) == ("no_capacity", {})
    forged = {
        "state": {"values": {"reason": {"value": {"selected_option": {"value": "my notes"}}}}}
    }
    assert modals.read_decline(forged)[0] is None


def test_a_chosen_partner_must_fit_the_chosen_case() -> None:
    cases = [
        modals.CaseChoices("INT-A", "a", partners={"recB": "Beta"}),
        modals.CaseChoices("INT-B", "b", partners={"recC": "Gamma"}),
    ]
    view = modals.choose_partner_view(cases, "C1", "1.2")
    fits = {"INT-A": ["recB"], "INT-B": ["recC"]}
    assert modals.read_choice(submitted(view, {"case": "INT-A", "partner": "recB"}), fits) == (
        ("INT-A", "recB"),
        {},
    )
    choice, errors = modals.read_choice(submitted(view, {"case": "INT-A", "partner": "recC"}), fits)
    assert choice is None and "does not fit INT-A" in errors["partner"]
    choice, errors = modals.read_choice(
        submitted(view, {"case": "INT-B", "partner": "recC"}), {"INT-B": []}
    )
    assert choice is None and "partner" in errors


def test_one_case_needs_no_case_input() -> None:
    view = modals.choose_partner_view(
        [modals.CaseChoices("INT-A", "a", partners={"recB": "Beta"})], "C1", "1.2"
    )
    assert all(b.get("block_id") != "case" for b in view["blocks"])
    assert modals.read_choice(submitted(view, {"partner": "recB"}), {"INT-A": ["recB"]}) == (
        ("INT-A", "recB"),
        {},
    )
