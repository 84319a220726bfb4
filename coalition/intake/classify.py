"""Case types from the form's choices and from free text in English, Spanish, Arabic, French and Kreyòl.

A case may have several types; the primary one (the most pressing, by `PRIORITY`)
is what routing matches on. Survivor types (VAWA, U visa, T visa) are protected by
8 U.S.C. 1367: outside the partner's own sheet they are only ever "protected".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from coalition.intake.normalize import fold

CASE_TYPES = (
    "asylum", "removal defense", "detained", "DACA", "TPS", "U visa", "T visa", "VAWA",
    "SIJS", "naturalization", "family petition", "work permit", "know your rights",
)  # fmt: skip
PROTECTED_TYPES = frozenset({"VAWA", "U visa", "T visa"})
PROTECTED = "protected"
PROTECTED_LABEL = "protected category"
# Most pressing first: the primary type decides which partners can take the case.
PRIORITY = (
    "detained", "removal defense", "asylum", "SIJS", "T visa", "U visa", "VAWA", "TPS",
    "DACA", "family petition", "work permit", "naturalization", "know your rights",
)  # fmt: skip

# Phrases as people write them. Latin-script phrases match whole words; Arabic ones
# match inside words too, because Arabic attaches "the" and "and" to the word.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "detained": (
        "detained", "detention", "in ice custody", "ice custody", "immigration custody",
        "detention center", "picked up by ice", "arrested by ice", "ice arrested", "held by ice",
        "detenido", "detenida", "detencion", "centro de detencion", "lo agarro migracion",
        "la agarro migracion", "esta en migracion", "arrestado por ice", "detenu", "detenue",
        "nan detansyon", "detansyon", "prizon imigrasyon", "محتجز", "محتجزة", "احتجاز", "معتقل",
        "bi ice bat", "bat giu", "tam giu", "拘留", "被移民局抓", "关押",
    ),
    "removal defense": (
        "removal proceedings", "immigration court", "immigration judge", "notice to appear", "nta",
        "court hearing", "master calendar", "order of removal", "removal order",
        "deportation order", "corte de inmigracion", "juez de inmigracion", "audiencia",
        "orden de deportacion", "aviso de comparecencia", "tribunal d'immigration",
        "tribinal imigrasyon", "محكمة الهجرة", "قاضي الهجرة", "جلسة المحكمة", "امر ترحيل",
        "toa di tru", "phien toa", "移民法庭", "移民法院",
    ),
    "asylum": (
        "asylum", "asylee", "persecution", "persecuted", "afraid to return", "fear of return",
        "credible fear", "asilo", "asilado", "persecucion", "miedo de regresar", "asile",
        "azil", "persekisyon", "لجوء", "لاجئ", "اضطهاد", "حق اللجوء", "ti nan", "庇护", "政治避难",
    ),
    "DACA": ("daca", "dreamer", "dreamers", "deferred action", "accion diferida", "داكا"),
    "TPS": (
        "tps", "temporary protected status", "estatus de proteccion temporal",
        "proteccion temporal", "statut de protection temporaire", "الحماية المؤقتة",
    ),
    "U visa": (
        "re:\\bu[\\s-]?visa\\b", "re:\\bvisa[\\s-]?u\\b", "crime victim", "victim of a crime",
        "victima de un crimen", "victima de crimen", "victima de un delito", "viktim krim",
        "helped the police", "ayude a la policia", "victime d'un crime", "ضحية جريمة",
        "تأشيرة يو", "ساعدت الشرطة",
    ),
    "T visa": (
        "re:\\bt[\\s-]?visa\\b", "re:\\bvisa[\\s-]?t\\b", "trafficking", "trafficked",
        "human trafficking", "forced labor", "forced to work", "kept my passport",
        "took my passport", "me quitaron el pasaporte", "trata de personas", "trafico de personas",
        "victima de trata", "trafik moun", "traite des etres humains", "الاتجار بالبشر",
        "اتجار بالبشر", "الاتجار بالأشخاص",
    ),
    "VAWA": (
        "vawa", "domestic violence", "abusive husband", "abusive wife", "abusive spouse",
        "my husband abuses", "my husband hits", "my husband hurts me", "my wife hurts me",
        "violencia domestica", "violencia intrafamiliar",
        "mi esposo me pega", "me maltrata", "abuso domestico", "violence conjugale",
        "violence domestique", "vyolans domestik", "العنف الأسري", "عنف أسري", "العنف المنزلي",
        "عنف منزلي", "زوجي يضربني",
    ),
    "SIJS": (
        "sijs", "sij", "special immigrant juvenile", "special juvenile", "juvenil especial",
        "visa juvenil", "menor no acompanado", "unaccompanied minor", "unaccompanied child",
        "came alone when i was", "llego solo cuando tenia", "menor sin acompanante",
        "قاصر غير مصحوب",
    ),
    "naturalization": (
        "naturalization", "naturalize", "citizenship", "become a citizen", "n-400", "n400",
        "naturalizacion", "ciudadania", "re:hacerme ciudadan[oa]", "naturalisation",
        "citoyennete", "sitwayennte", "vin sitwayen", "natiralizasyon", "التجنس", "طلب الجنسية",
        "الجنسية الأمريكية", "الحصول على الجنسية", "quoc tich", "入籍", "公民",
    ),
    "family petition": (
        "family petition", "petition for my", "petition my", "i-130", "i130", "sponsor my",
        "bring my family", "green card through my", "peticion familiar", "pedir a mi",
        "pedir a mis", "peticion para mi", "arreglar por mi esposo", "arreglar por mi esposa",
        "petition familiale", "petisyon fanmi", "fe papye pou", "لم شمل", "لم الشمل",
        "كفالة عائلية", "bao lanh", "为父母申请", "亲属移民", "家庭团聚",
    ),
    "work permit": (
        "work permit", "employment authorization", "ead", "i-765", "i765",
        "permission to work", "permiso de trabajo", "autorizacion de empleo",
        "permis de travail", "permi travay", "pemi travay", "otorizasyon travay", "تصريح عمل",
        "تصريح العمل", "اذن عمل", "giay phep lao đong", "工作许可", "工卡",
    ),
    "know your rights": (
        "know your rights", "conozca sus derechos", "conoce tus derechos",
        "connaitre vos droits", "konnen dwa ou", "اعرف حقوقك",
    ),
}  # fmt: skip

# Threats and fears of deportation are common in every kind of case; they count as
# removal defense only when nothing more specific is written.
WEAK_KEYWORDS: dict[str, tuple[str, ...]] = {
    "removal defense": (
        "removal", "deportation", "deport", "deported", "deportacion", "deportar", "deportado",
        "expulsion", "depotasyon", "depote", "ترحيل", "الترحيل", "trục xuất", "驱逐",
    ),
}  # fmt: skip

_NEGATED_DETENTION = re.compile(
    r"\b(?:not|never|no longer|no esta|no estoy|no estan|ya no esta|nunca|pa)\s+"
    r"(?:(?:been|be|being|fue|ha sido|was|is|am|are)\s+)?(?:detained|detenid[oa]s?|in detention|detansyon)\b"
    r"|غير محتجز|ليس محتجز"
)


def _compile(phrase: str) -> str:
    if phrase.startswith("re:"):
        return phrase[3:]
    folded = re.escape(fold(phrase))
    if re.search(r"[a-z]", fold(phrase)):
        return rf"(?<![\w-]){folded}(?![\w])"
    return folded


PATTERNS: dict[str, re.Pattern[str]] = {
    kind: re.compile("|".join(_compile(p) for p in phrases)) for kind, phrases in KEYWORDS.items()
}
WEAK_PATTERNS: dict[str, re.Pattern[str]] = {
    kind: re.compile("|".join(_compile(p) for p in phrases))
    for kind, phrases in WEAK_KEYWORDS.items()
}


def case_types(texts: Iterable[str]) -> tuple[str, ...]:
    """Every case type found in the given texts (form choices and free text), most pressing first."""
    text = " \n ".join(fold(t)[:20_000] for t in texts if t)
    found = {kind for kind, pattern in PATTERNS.items() if pattern.search(text)}
    if "detained" in found and _NEGATED_DETENTION.search(text):
        without = _NEGATED_DETENTION.sub(" ", text)
        if not PATTERNS["detained"].search(without):
            found.discard("detained")
    if not found:
        found = {kind for kind, pattern in WEAK_PATTERNS.items() if pattern.search(text)}
    return tuple(kind for kind in PRIORITY if kind in found)


def primary(types: Iterable[str]) -> str | None:
    """The case type routing matches on: the most pressing of them."""
    chosen = set(types)
    return next((kind for kind in PRIORITY if kind in chosen), None)


def broad_category(category: str | None) -> str | None:
    """What the ledger may keep: survivor categories become "protected"."""
    if category in PROTECTED_TYPES:
        return PROTECTED
    return category


def label(category: str | None) -> str:
    """How a category reads outside the partner's own sheet (Slack, intake sheet reason, ledger)."""
    if category in PROTECTED_TYPES or category == PROTECTED:
        return PROTECTED_LABEL
    return category or "unclassified"


def canonical_service(value: str) -> str | None:
    """A partner's service as written in Airtable ("Removal Defense", "u-visa") -> a CASE_TYPES name."""
    key = fold(value).replace("-", " ")
    for kind in CASE_TYPES:
        if fold(kind) == key:
            return kind
    found = case_types([value])
    return found[0] if len(found) == 1 else None
