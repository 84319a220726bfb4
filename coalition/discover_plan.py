"""What `coalition setup discover` proposes (pure): every name the bot needs, found in a workspace's names.

The workspace arrives as names only (`Workspace`: Airtable tables and fields, the
Intake and Directory tabs with their header rows, channels, partners' sheet tabs);
the needs come from the current `fields.yaml` and `services.yaml` plus the design's
names and a small English and Spanish vocabulary. `discover` matches them with
coalition/name_match.py and returns a `Discovery`: the rows to print, what is
unmapped, and the new fields.yaml and services.yaml names to write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coalition.intake.sheet_rows import REFERRAL_COLUMNS, REFERRAL_TAB
from coalition.name_match import DEFAULT_THRESHOLD, Match, Need, assign, folded, score
from coalition.partner_sheets import CAUSES, TabSample, choose_tab
from coalition.references import BadReference, ChannelRef, parse_channel
from coalition.settings import (
    COMPUTED_SOURCES,
    CONTACT_FORM_FIELDS,
    REQUIRED_FORM_FIELDS,
    FieldsConfig,
    ServicesConfig,
)

# ---------------------------------------------------------------- vocabulary
# Other names real workspaces give the design's tables, by table key.
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "members": ("Member organizations", "Organizations", "Organisations", "Partners",
                "Member orgs", "Miembros", "Organizaciones"),
    "contacts": ("People", "Contact people", "Staff contacts", "Contactos"),
    "campaigns": ("Campaign alerts", "Action alerts", "Campañas"),
    "bills": ("Legislation", "Bill tracker", "Legislative tracker", "Proyectos de ley"),
    "donations": ("Gifts", "Donors and gifts", "Donaciones"),
    "activities": ("Events", "Community activities", "Actividades"),
}  # fmt: skip
# Other names of fields, by table key and the design's field name.
FIELD_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "members": {
        "Name": ("Organization name", "Organization", "Org name", "Nombre de la organización"),
        "Type": ("Organization type", "Member type", "Org type", "Tipo"),
        "Counties": ("Counties served", "Service area", "Condados"),
        "Services": ("Services offered", "Case types", "Legal services", "Servicios"),
        "Languages": ("Languages spoken", "Language access", "Idiomas"),
        "Accepting referrals": ("Accepting new referrals", "Open to referrals", "Taking cases"),
        "Weekly capacity": ("Cases per week", "Weekly case capacity", "Capacity", "Capacidad"),
        "Income limit": ("Income limit % FPL", "Income eligibility", "Income ceiling"),
        "LSC funded": ("LSC", "LSC grantee", "Legal Services Corporation funded"),
        "Accreditation": ("Representation", "Attorney or DOJ accredited", "Acreditación"),
        "Referral channel": (
            "Slack channel for referrals",
            "Referral Slack channel",
            "Slack channel",
        ),
        "Referral sheet": ("Referral spreadsheet", "Referral Google Sheet", "Referrals sheet"),
        "Membership status": ("Member status", "Status", "Estado de membresía"),
        "Dues paid through": ("Dues paid until", "Dues through", "Dues"),
        "Last verified": ("Last verified on", "Verified", "Info verified"),
        "Remote services": ("Remote", "Serves remotely", "Virtual services"),
        "Interpreter available": ("Interpreters", "Interpretation available", "Interpreter"),
        "Data issues": ("Data problems", "Bot notes"),
    },
    "contacts": {
        "Name": ("Full name", "Contact name", "Nombre"),
        "Email": ("Email address", "E-mail", "Work email", "Correo"),
        "Phone": ("Phone number", "Work phone", "Teléfono"),
        "Organization": ("Member organization", "Organisation", "Org", "Organización"),
        "Role": ("Title", "Position", "Job title", "Cargo"),
        "Slack user": ("Slack ID", "Slack member ID", "Slack handle"),
        "Primary contact": ("Main contact", "Primary", "Point of contact"),
    },
    "campaigns": {
        "Message": ("Alert text", "Body"),
        "Call to action": ("CTA", "Ask"),
        "Channels": ("Slack channels", "Post to"),
        "Send at": ("Send time", "Scheduled for"),
    },
    "bills": {
        "Bill": ("Bill number", "Bill ID"),
        "Position": ("Our position", "Stance"),
        "Source URL": ("Link", "URL"),
        "Channel": ("Slack channel",),
    },
    "donations": {
        "Donor": ("Donor name", "Name"),
        "Amount": ("Gift amount", "Amount USD"),
        "Date": ("Gift date", "Received"),
        "Recurring": ("Monthly donor", "Recurring gift"),
        "Anonymous": ("Anonymous gift", "Give anonymously"),
    },
    "activities": {
        "Type": ("Activity type", "Event type"),
        "Title": ("Event", "Name"),
        "Attendees": ("Attendance", "Participants"),
    },
}
# How forms ask for each answer, in English and Spanish.
FORM_WORDS: dict[str, tuple[str, ...]] = {
    "timestamp": ("Marca de tiempo", "Submission time", "Fecha de envío"),
    "name": ("Full name", "Your name", "Nombre completo", "Nombre y apellido", "Su nombre"),
    "language": ("Preferred language", "Language you speak", "Idioma preferido", "Idioma", "Lengua"),
    "phone": ("Phone number", "Cell phone", "Número de teléfono", "Teléfono", "Celular"),
    "email": ("Email address", "Correo electrónico", "Correo"),
    "city": ("City", "Town", "Ciudad"),
    "county": ("County", "County you live in", "Condado"),
    "state": ("State", "Estado"),
    "help": ("Help needed", "How can we help", "What help do you need", "Type of help",
             "Ayuda", "Cómo podemos ayudarle", "Qué ayuda necesita"),
    "detained": ("Detained", "In detention", "Detenido", "Detenida", "En detención"),
    "court_date": ("Next court date", "Court hearing", "Next hearing", "Fecha de corte",
                   "Próxima audiencia"),
    "entry_date": ("Date of last entry", "Last entered", "Last entry", "Entered the US",
                   "Fecha de entrada", "Última entrada", "Última vez que entró"),
    "birth_date": ("Date of birth", "Birthday", "Fecha de nacimiento"),
    "household": ("Household size", "People in household", "People in your household",
                  "Personas en su hogar", "Tamaño del hogar"),
    "income": ("Monthly income", "Household income", "Ingreso mensual", "Ingresos"),
    "consent": ("Consent to share", "Share your information", "Share information",
                "Consentimiento", "Compartir su información"),
    "notes": ("Notes", "Anything else", "Comments", "Notas", "Algo más", "Comentarios"),
}  # fmt: skip
TAB_WORDS: dict[str, tuple[str, ...]] = {
    "intake_tab": ("Form Responses", "Form Responses 1", "Form responses", "Respuestas de formulario",
                   "Respuestas de formulario 1", "Responses", "Intake"),
    "member_directory_tab": ("Directory", "Member Directory", "Members", "Directorio"),
}  # fmt: skip

# Airtable fields the bot can do without: absent ones read as empty (with a warning) or
# are the bot's own notes. Every other field is needed.
OPTIONAL_FIELDS: dict[str, frozenset[str]] = {
    "members": frozenset({"dues", "verified", "remote", "interpreter", "data_issues"}),
    "contacts": frozenset({"role", "primary", "data_issues"}),
    "campaigns": frozenset({"notify_channel", "urgent", "error", "regions"}),
    "bills": frozenset({"error", "next_hearing", "source_url", "last_action_date"}),
    "donations": frozenset({"source", "campaign"}),
    "activities": frozenset({"attendees", "region", "organization"}),
}
# Form answers routing can do without; a phone or an email, one is enough.
REQUIRED_FORM = frozenset(k for k in REQUIRED_FORM_FIELDS if k != "contact") | {"state"}


# ---------------------------------------------------------------- the workspace, as names
@dataclass(frozen=True)
class PartnerSheet:
    """One partner as read: its name, its references as typed, and its sheet's tabs and headers."""

    name: str
    sheet_ref: str
    channel_ref: str
    tabs: Sequence[TabSample] = ()  # each with its first row only
    gid: int | None = None  # the tab the link points to, if it does
    problem: str | None = None  # why the sheet could not be read


@dataclass(frozen=True)
class Workspace:
    """Only names: Airtable tables and fields, tab headers, channel names; never a data row."""

    tables: Mapping[str, Sequence[str]]
    intake_tabs: Mapping[str, Sequence[str]]
    directory_tabs: Mapping[str, Sequence[str]]
    channels: Mapping[str, str]  # name -> id
    partners: Sequence[PartnerSheet] = ()
    problems: Sequence[str] = ()  # what could not be read, for the report


# ---------------------------------------------------------------- the result
@dataclass(frozen=True)
class Section:
    """One group of rows in the report: a table's fields, the form's columns..."""

    title: str
    matches: list[Match]


@dataclass(frozen=True)
class PartnerFinding:
    name: str
    tab: str  # what the bot will use or do
    channel: str
    ok: bool


@dataclass
class Discovery:
    """What discover found: rows to print, unmapped needs, and the names to write."""

    sections: list[Section]
    partners: list[PartnerFinding]
    fields: dict[str, Any]
    services: dict[tuple[str, ...], str]
    problems: list[str]

    def found(self, key: str) -> str | None:
        """The name found for the need `key` (e.g. "airtable.members"), if any."""
        return next((m.found for s in self.sections for m in s.matches if m.need.key == key), None)

    @property
    def unmapped(self) -> list[Match]:
        """Required needs found nowhere: the command exits 2 on any."""
        return [m for s in self.sections for m in s.matches if not m.mapped and m.need.required]


def _spellings(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for group in groups for s in group if s))


# ---------------------------------------------------------------- discover
def discover(
    fields: FieldsConfig,
    services: ServicesConfig,
    ws: Workspace,
    threshold: float = DEFAULT_THRESHOLD,
    referral_columns: Sequence[str] = REFERRAL_COLUMNS,
    referral_tab: str = REFERRAL_TAB,
) -> Discovery:
    """Match every need to the workspace's names and say what to write."""
    sections, airtable = _airtable(fields, ws, threshold)
    out: dict[str, Any] = {"airtable": airtable}
    intake_tab, form_matches, bot_matches = _intake(fields, services, ws, threshold)
    sections.append(Section("Intake tab", [intake_tab]))
    sections.append(Section(f"Intake form ({intake_tab.found or '?'})", form_matches))
    sections.append(Section("Intake: the bot's columns", bot_matches))
    out["intake"] = _intake_yaml(fields, form_matches, bot_matches, ws, intake_tab.found)
    directory_tab, directory_matches = _directory(fields, services, ws, threshold)
    sections.append(Section("Member Directory tab", [directory_tab]))
    sections.append(Section("Member Directory columns", directory_matches))
    out["directory"] = _directory_yaml(fields, directory_matches)
    channel_matches = _channels(services, ws, threshold)
    sections.append(Section("Slack channels", channel_matches))
    updates: dict[tuple[str, ...], str] = {}
    if intake_tab.found:
        updates[("sheets", "intake_tab")] = intake_tab.found
    if directory_tab.found:
        updates[("sheets", "member_directory_tab")] = directory_tab.found
    updates.update(_channel_updates(services, channel_matches))
    partners = [_partner(p, ws.channels, referral_columns, referral_tab) for p in ws.partners]
    return Discovery(sections, partners, out, updates, list(ws.problems))


def _airtable(
    fields: FieldsConfig, ws: Workspace, threshold: float
) -> tuple[list[Section], dict[str, Any]]:
    """Tables first, then each found table's fields; fields.yaml's `airtable` part."""
    design = FieldsConfig().airtable
    tables = fields.airtable.tables()
    table_needs = [
        Need(
            f"airtable.{key}",
            f"Airtable table {getattr(design, key).table}",
            _spellings([table.table, getattr(design, key).table], TABLE_WORDS.get(key, ())),
        )
        for key, table in tables.items()
    ]
    table_matches = assign(table_needs, ws.tables, threshold)
    sections = [Section("Airtable tables", table_matches)]
    out: dict[str, Any] = {}
    for (key, table), table_match in zip(tables.items(), table_matches, strict=True):
        found_table = table_match.found
        names = table.fields  # type: ignore[attr-defined]
        defaults = getattr(design, key).fields
        needs = [
            Need(
                f"airtable.{key}.{fkey}",
                f"{getattr(design, key).table} · {getattr(defaults, fkey)}",
                _spellings(
                    [value, getattr(defaults, fkey)],
                    FIELD_WORDS.get(key, {}).get(getattr(defaults, fkey), ()),
                ),
                required=fkey not in OPTIONAL_FIELDS.get(key, frozenset()),
            )
            for fkey, value in names.items()
        ]
        matches = assign(needs, ws.tables.get(found_table, ()) if found_table else (), threshold)
        sections.append(Section(f"Airtable {found_table or table.table}", matches))
        out[key] = {
            "table": found_table or table.table,
            "fields": {
                fkey: m.found or value
                for (fkey, value), m in zip(names.items(), matches, strict=True)
            },
        }
    return sections, out


def _form_needs(fields: FieldsConfig) -> list[Need]:
    design = FieldsConfig().intake.form.columns()
    return [
        Need(
            f"intake.form.{key}",
            f"form · {design[key][0]}",
            _spellings(spellings, design[key], FORM_WORDS.get(key, ())),
            required=key in REQUIRED_FORM,
        )
        for key, spellings in fields.intake.form.columns().items()
    ]


def _bot_needs(fields: FieldsConfig) -> list[Need]:
    design = dict(FieldsConfig().intake.bot.items())
    # The bot adds its own columns at the right end when they are missing.
    return [
        Need(
            f"intake.bot.{key}",
            f"bot column · {design[key]}",
            _spellings([name, design[key]]),
            False,
        )
        for key, name in fields.intake.bot.items()
    ]


# A tab chosen for its header alone must hold at least this share of the needed columns.
MIN_HEADER_SHARE = 50.0


def _best_tab(
    tabs: Mapping[str, Sequence[str]], needs: list[Need], tab_need: Need, threshold: float
) -> Match:
    """The tab whose header holds most of the needs (its name breaks a tie); by name alone if none does."""
    ranked = sorted(
        tabs,
        key=lambda title: (
            sum(1 for m in assign(needs, tabs[title], threshold) if m.mapped),
            score(title, tab_need)[1],
        ),
        reverse=True,
    )
    if not ranked:
        return Match(tab_need, None, "unmapped", 0.0)
    best = ranked[0]
    held = sum(1 for m in assign(needs, tabs[best], threshold) if m.mapped)
    how, value = score(best, tab_need)
    if value >= threshold:
        return Match(tab_need, best, how, value)
    share = round(100.0 * held / max(len(needs), 1), 1)
    if held and share >= MIN_HEADER_SHARE:  # named nothing like it, but its header says it is
        return Match(tab_need, best, "header", share)
    return Match(tab_need, None, "unmapped", max(value, share))


def _intake(
    fields: FieldsConfig, services: ServicesConfig, ws: Workspace, threshold: float
) -> tuple[Match, list[Match], list[Match]]:
    form, bot = _form_needs(fields), _bot_needs(fields)
    tab_need = Need(
        "sheets.intake_tab",
        f"tab of '{services.sheets.intake}'",
        _spellings([services.sheets.intake_tab], TAB_WORDS["intake_tab"]),
    )
    tab = _best_tab(ws.intake_tabs, form, tab_need, threshold)
    header = list(ws.intake_tabs.get(tab.found, ())) if tab.found else []
    matches = assign([*form, *bot], header, threshold)
    form_matches, bot_matches = matches[: len(form)], matches[len(form) :]
    contact = [m for m in form_matches if _leaf(m) in CONTACT_FORM_FIELDS]
    if not any(m.mapped for m in contact):  # a phone or an email column must exist
        form_matches = [_required(m) if m in contact else m for m in form_matches]
    return tab, form_matches, bot_matches


def _leaf(match: Match) -> str:
    return match.need.key.rsplit(".", 1)[-1]


def _required(match: Match) -> Match:
    need = match.need
    return Match(
        Need(need.key, need.label, need.spellings, True), match.found, match.how, match.score
    )


def _intake_yaml(
    fields: FieldsConfig,
    form: list[Match],
    bot: list[Match],
    ws: Workspace,
    tab: str | None,
) -> dict[str, Any]:
    """Found headers first; other spellings kept as fallbacks unless the header holds them."""
    header = {folded(h) for h in (ws.intake_tabs.get(tab, ()) if tab else ())}
    columns = fields.intake.form.columns()
    out_form: dict[str, list[str]] = {}
    for m in form:
        key = _leaf(m)
        rest = [s for s in columns[key] if folded(s) not in header and s != m.found]
        out_form[key] = [m.found, *rest] if m.found else (rest or list(columns[key]))
    out_bot = {_leaf(m): m.found or m.need.spellings[0] for m in bot}
    return {"form": out_form, "bot": out_bot}


def _directory(
    fields: FieldsConfig, services: ServicesConfig, ws: Workspace, threshold: float
) -> tuple[Match, list[Match]]:
    needs = [
        Need(f"directory.{h}", f"directory · {h}", (h,), required=False) for h in fields.directory
    ]
    tab_need = Need(
        "sheets.member_directory_tab",
        f"tab of '{services.sheets.member_directory}'",
        _spellings([services.sheets.member_directory_tab], TAB_WORDS["member_directory_tab"]),
        required=False,  # roster sync writes the directory
    )
    tab = _best_tab(ws.directory_tabs, needs, tab_need, threshold)
    header = list(ws.directory_tabs.get(tab.found, ())) if tab.found else []
    return tab, assign(needs, header, threshold)


def _directory_yaml(fields: FieldsConfig, matches: list[Match]) -> dict[str, str]:
    """Found header -> the source, named by its Members key so a renamed field still resolves."""
    members = fields.airtable.members.fields
    design = FieldsConfig().airtable.members.fields
    by_name = {**{v: k for k, v in design.items()}, **{v: k for k, v in members.items()}}
    out: dict[str, str] = {}
    for (header, source), m in zip(fields.directory.items(), matches, strict=True):
        if source not in COMPUTED_SOURCES and source not in type(members).model_fields:
            source = by_name.get(source, source)
        out[m.found or header] = source
    return out


def _channels(services: ServicesConfig, ws: Workspace, threshold: float) -> list[Match]:
    """Each configured channel: one given by id or link is looked up by id, a name is matched."""
    configured = services.slack.channels.model_dump()
    by_id = {channel_id: name for name, channel_id in ws.channels.items()}
    needs = [
        Need(f"slack.channels.{key}", f"#{key.replace('_', '-')}", (value, key.replace("_", "-")))
        for key, value in configured.items()
    ]
    by_name = assign(needs, ws.channels, threshold)
    matches: list[Match] = []
    for need, value, named in zip(needs, configured.values(), by_name, strict=True):
        ref = parse_channel(value)
        if isinstance(ref, ChannelRef) and ref.id:
            found = by_id.get(ref.id)
            matches.append(
                Match(need, found, "exact", 100.0) if found else Match(need, None, "unmapped", 0.0)
            )
        else:
            matches.append(named)
    return matches


def _channel_updates(services: ServicesConfig, matches: list[Match]) -> dict[tuple[str, ...], str]:
    """services.yaml channel names to write: only a name that differs (an id or link stays as given)."""
    configured = services.slack.channels.model_dump()
    updates: dict[tuple[str, ...], str] = {}
    for m in matches:
        key = _leaf(m)
        ref = parse_channel(configured[key])
        if m.found and not (isinstance(ref, ChannelRef) and ref.id) and m.found != configured[key]:
            updates[("slack", "channels", key)] = m.found
    return updates


def _partner(
    partner: PartnerSheet,
    channels: Mapping[str, str],
    referral_columns: Sequence[str],
    referral_tab: str,
) -> PartnerFinding:
    channel_text, channel_ok = _partner_channel(partner.channel_ref, channels)
    if partner.problem:
        return PartnerFinding(partner.name, f"cannot use: {partner.problem}", channel_text, False)
    tab, tab_ok = _referral_tab(partner, referral_columns, referral_tab)
    return PartnerFinding(partner.name, tab, channel_text, channel_ok and tab_ok)


def _partner_channel(typed: str, channels: Mapping[str, str]) -> tuple[str, bool]:
    """The partner's referral channel as the bot will read it, and whether the bot is in it."""
    ref = parse_channel(typed)
    if ref is None:
        return "none given", False
    if isinstance(ref, BadReference):
        return f"not understood ({ref.why})", False
    names = {v: k for k, v in channels.items()}
    if ref.id and ref.id in names:
        return f"#{names[ref.id]}", True
    if ref.name and ref.name in channels:
        return f"#{ref.name}", True
    return f"{ref.canonical()} (not found, or the bot is not in it)", False


def _referral_tab(
    partner: PartnerSheet, columns: Sequence[str], configured: str
) -> tuple[str, bool]:
    """Which tab referrals will go to, chosen as intake routing chooses it, said for a person."""
    choice = choose_tab(partner.tabs, configured, partner.gid, columns)
    if not choice.usable:
        return CAUSES.get(choice.cause or "", str(choice.cause)), False
    if choice.create:
        return f"a new tab '{choice.title}' (no tab holds the referral header)", True
    said = f"'{choice.title}' ({choice.how})"
    if choice.write_header:
        said += ", empty: the header goes in row 1"
    elif choice.add_columns:
        said += f", {len(choice.add_columns)} referral column(s) added at the right"
    return said, True
