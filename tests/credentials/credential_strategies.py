"""Hypothesis strategies for realistic, and deliberately awkward, OB 3.0 microcredentials.

Used by the canonicalisation differential tests. Every credential starts from
``credentials.microcredential.build_credential`` (so it has all the EU elements and the
shape issuers really produce) and is then decorated with the things that stress a
JSON-LD → RDF → RDFC-1.0 pipeline: unicode (combining marks, astral plane, quotes,
backslashes, newlines), numbers at the edges, dates, nested blank nodes, arrays with
duplicates and nulls, ``@list`` values, ``@json`` literals, language-tagged values,
explicit blank node ids, status entries, evidence, presentations wrapping credentials, and
identical-looking sibling nodes that force the Hash N-Degree Quads path.

``node_safe=True`` (the default) keeps to inputs on which pyld and the Node reference are
known to agree; the divergences found while writing these tests are listed in
:data:`KNOWN_DIVERGENCES` and pinned by explicit tests. ``node_safe=False`` adds them back
(for comparisons between microcred's fast path and pyld only).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from contexts import CREDENTIALS_V2, OB_V3P0
from credentials.eu_vocabulary import LEGACY_CONTEXT
from credentials.microcredential import (
    COUNTRY_NAMES,
    PARTICIPATION_FORMS,
    SUPERVISION,
    IssuerProfile,
    Learner,
    ModuleDefinition,
    QualityAssurance,
    Result,
    build_credential,
)
from tests.credentials.credential_scalars import (
    DIDS,
    EMAILS,
    HTTP_URLS,
    IDENTIFIERS,
    MOMENTS,
    SALTS,
    strategies,
)

#: Classes of input on which pyld 3.3.0 (hence microcred) and jsonld.js 9 / rdf-canonize 5
#: (the reference) produce different N-Quads or where the reference refuses the input.
KNOWN_DIVERGENCES = {
    "control characters": "pyld writes U+0000-U+001F (but TAB/LF/CR) and U+007F raw in "
    "literals; RDFC-1.0 and rdf-canonize escape them (\\b, \\f, \\u0001 …)",
    "utf-16 order": "rdf-canonize sorts N-Quads by UTF-16 code units, pyld by code point "
    "(as RDFC-1.0 says); they differ when an astral character meets U+E000-U+FFFF",
    "tiny single-digit numbers": "jsonld.js decides 'double' by a '.' in String(n), so "
    '1e-7 becomes "0"^^xsd:integer; pyld gives "1.0E-7"^^xsd:double',
    "half-way doubles": "a double exactly half-way at the 16th digit: pyld rounds half to "
    "even, JavaScript's toExponential rounds half up",
    "integers beyond 2^53": "JavaScript parses them to the nearest double (and writes "
    "that back as other digits: 2**63 returns as 9223372036854776000)",
    "N-degree work limit": "rdf-canonize refuses graphs needing more Hash N-Degree Quads "
    "iterations than there are non-unique blank nodes (a poison-graph guard); microcred's "
    "bound (credentials/_urdna.py, 1,000 calls) is far more generous",
    "IRI characters": 'pyld writes <, >, ", {, }, |, ^, ` and \\ raw inside IRIs; '
    "rdf-canonize escapes them as \\u003C …",
    "undefined types": "pyld resolves an undefined type name against "
    "http://example.org/base/; the reference's safe mode refuses it",
    "malformed language tags": "pyld accepts any @language string; the reference's safe "
    "mode refuses tags that are not BCP 47",
}

V2 = CREDENTIALS_V2
OB = OB_V3P0
XSD_DATE_SAMPLES = ["2024-09-01", "2025-01-31", "1999-12-31", "2024-02-29", "2030-06-15Z"]


# --------------------------------------------------------------------- the credential


@st.composite
def issuers(draw: Any, node_safe: bool = True) -> IssuerProfile:
    s = strategies(node_safe)
    return IssuerProfile(
        id=draw(st.one_of(DIDS, HTTP_URLS)),
        name=draw(s.name),
        url=draw(HTTP_URLS),
        country_code=draw(st.sampled_from(sorted(COUNTRY_NAMES))),
        region=draw(s.optional_name),
        locality=draw(s.optional_name),
        identifiers=draw(s.identifier_map),
        description=draw(st.none() | s.text),
        email=draw(st.none() | EMAILS),
    )


@st.composite
def modules(draw: Any, node_safe: bool = True) -> ModuleDefinition:
    s = strategies(node_safe)
    # the schema wants the workload as ECTS, hours or both (EU element 7)
    ects = draw(st.none() | st.sampled_from([0.5, 1, 2.5, 3, 4, 5, 7.5, 15, 30, 60]))
    hours = st.integers(1, 2000)
    return ModuleDefinition(
        id=draw(HTTP_URLS),
        name=draw(s.name),
        description=draw(s.name),
        eqf_level=draw(st.integers(1, 8)),
        assessment_type=draw(s.name),
        participation_form=draw(st.sampled_from(PARTICIPATION_FORMS)),
        quality_assurance=QualityAssurance(
            name=draw(s.name),
            url=draw(HTTP_URLS),
            description=draw(s.optional_name),
            code=draw(s.optional_name),
        ),
        ects=ects,
        hours=draw(hours) if ects is None else draw(st.none() | hours),
        criteria=draw(st.none() | s.long_text),
        learning_outcomes=draw(st.lists(s.name, max_size=3)),
        nlqf_level=draw(st.none() | st.integers(1, 8)),
        qf_ehea_cycle=draw(st.none() | st.sampled_from(["short", "first", "second", "third"])),
        language=draw(st.none() | st.sampled_from(["nl", "en", "de", "fr"])),
        prerequisites=draw(st.lists(s.name, max_size=2)),
        stackable_into=draw(st.lists(HTTP_URLS, max_size=2)),
        supervision=draw(st.none() | st.sampled_from(SUPERVISION)),
        identity_check=draw(st.none() | st.booleans()),
        field_of_study=draw(s.optional_name),
        human_code=draw(s.optional_name),
        identifiers=draw(st.dictionaries(st.sampled_from(["ISCED", "CROHO"]), s.name, max_size=1)),
        alignments=draw(st.lists(s.alignment, max_size=2)),
        tags=draw(st.lists(s.name, max_size=3)),
        version=draw(s.optional_name),
    )


@st.composite
def learners(draw: Any) -> Learner:
    did = draw(st.none() | DIDS)
    identity = draw(EMAILS) if did is None else draw(st.none() | EMAILS)
    return Learner(did=did, identity=identity, salt=draw(SALTS))


@st.composite
def results(draw: Any, node_safe: bool = True) -> Result | None:
    if draw(st.booleans()):
        return None
    return Result(
        grade=draw(st.none() | st.sampled_from(["8.5", "6", "A", "pass", "10"])),
        description=draw(strategies(node_safe).name),
        value_min=draw(st.none() | st.just("1")),
        value_max=draw(st.none() | st.just("10")),
        required_value=draw(st.none() | st.just("5.5")),
        status=draw(st.none() | st.sampled_from(["Completed", "Enrolled", "Failed"])),
        awarded_date=draw(st.none() | MOMENTS),
    )


@st.composite
def base_credentials(draw: Any, node_safe: bool = True) -> dict[str, Any]:
    valid_from = draw(MOMENTS)
    valid_until = draw(st.none() | st.timedeltas(timedelta(days=1), timedelta(days=4000)))
    result = draw(results(node_safe))
    if result is not None and result.awarded_date is not None:
        # the profile wants the award inside the validity window (EU element 5)
        earlier = draw(st.timedeltas(timedelta(0), timedelta(days=400)))
        result = replace(result, awarded_date=valid_from - earlier)
    return build_credential(
        draw(issuers(node_safe)),
        draw(modules(node_safe)),
        draw(learners()),
        result=result,
        credential_id=draw(IDENTIFIERS),
        valid_from=valid_from,
        valid_until=valid_from + valid_until if valid_until else None,
    )


# ---------------------------------------------------------------------- decorations


def _subject(credential: dict[str, Any]) -> dict[str, Any]:
    return credential["credentialSubject"]


def _achievement(credential: dict[str, Any]) -> dict[str, Any]:
    achievement = _subject(credential)["achievement"]
    return achievement[0] if isinstance(achievement, list) else achievement


def _edge_numbers(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """Numbers under xsd:float / xsd:integer coercion and as plain JSON numbers."""
    achievement = _achievement(credential)
    achievement["creditsAvailable"] = draw(strategies(node_safe).number)
    if draw(st.booleans()):
        # the legacy microcred/v1 terms (still read): xsd:float and xsd:integer coercion
        if LEGACY_CONTEXT not in credential["@context"]:
            credential["@context"] = [*credential["@context"], LEGACY_CONTEXT]
        achievement["ects"] = draw(strategies(node_safe).number)
        achievement["workloadHours"] = draw(strategies(node_safe).number)
    subject = _subject(credential)
    subject["creditsEarned"] = draw(strategies(node_safe).number)
    subject.setdefault("result", []).append(
        {"type": ["Result"], "value": draw(strategies(node_safe).scalar)}
    )


def _extra_results(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    entries = _subject(credential).setdefault("result", [])
    for _ in range(draw(st.integers(1, 3))):
        entry: dict[str, Any] = {"type": ["Result"]}
        if draw(st.booleans()):
            entry["value"] = draw(strategies(node_safe).text | strategies(node_safe).number)
        if draw(st.booleans()):
            entry["status"] = draw(st.sampled_from(["Completed", "Provisional"]))
        if draw(st.booleans()):
            entry["achievedLevel"] = draw(HTTP_URLS)
        entries.append(entry)


def _duplicate_sibling(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """Identical sibling blank nodes: equal first-degree hashes (Hash N-Degree Quads)."""
    achievement = _achievement(credential)
    pools = [achievement["alignment"], _subject(credential).setdefault("result", [])]
    if "otherIdentifier" in credential["issuer"]:
        pools.append(credential["issuer"]["otherIdentifier"])
    pool = draw(st.sampled_from([p for p in pools if p] or [achievement["alignment"]]))
    if not pool:
        pool.append({"type": ["Result"], "status": "Completed"})
    pool.append(copy.deepcopy(draw(st.sampled_from(pool))))


def _twin_achievements(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """Two blank-node achievements that differ only two levels down (criteria text)."""
    first = copy.deepcopy(_achievement(credential))
    first.pop("id")
    first.pop("resultDescription", None)
    second = copy.deepcopy(first)
    second["criteria"] = {"narrative": draw(strategies(node_safe).text) + "·"}
    _subject(credential)["achievement"] = [first, second]
    _subject(credential).pop("result", None)


def _language_values(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    tags = strategies(node_safe).language
    achievement = _achievement(credential)
    achievement["name"] = {"@value": achievement["name"], "@language": draw(tags)}
    achievement["description"] = [
        {"@value": draw(strategies(node_safe).text), "@language": draw(tags)} for _ in range(2)
    ]
    credential["name"] = {"@value": draw(strategies(node_safe).text), "@type": V2_STRING}


V2_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _dates(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    subject = _subject(credential)
    subject["activityStartDate"] = draw(st.sampled_from(XSD_DATE_SAMPLES))
    subject["activityEndDate"] = draw(MOMENTS).date().isoformat()
    moment = draw(MOMENTS)
    credential["awardedDate"] = draw(
        st.sampled_from(
            [
                moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                moment.strftime("%Y-%m-%dT%H:%M:%S.123+02:00"),
                moment.isoformat(),
            ]
        )
    )


def _allowed_values(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """ResultDescription.allowedValue is an @list: empty, flat or nested arrays."""
    descriptions = _achievement(credential).setdefault(
        "resultDescription",
        [{"id": draw(HTTP_URLS), "type": ["ResultDescription"], "name": "Grade",
          "resultType": "LetterGrade"}],
    )  # fmt: skip
    item = strategies(node_safe).short_text
    descriptions[0]["allowedValue"] = draw(
        st.lists(item | st.lists(item, max_size=2) | st.none(), max_size=4) | item
    )


def _json_schema(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    credential["credentialSchema"] = {
        "id": draw(HTTP_URLS),
        "type": "JsonSchema",
        "jsonSchema": draw(strategies(node_safe).json),
    }


def _status(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    list_url = draw(HTTP_URLS)
    entry = {
        "id": f"{list_url}#{draw(st.integers(0, 131071))}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": draw(st.sampled_from(["revocation", "suspension", "message"])),
        "statusListIndex": str(draw(st.integers(0, 131071))),
        "statusListCredential": list_url,
    }
    if entry["statusPurpose"] == "message":
        entry["statusSize"] = draw(st.integers(1, 8))
        entry["statusMessage"] = [
            {"status": "0x0", "message": draw(strategies(node_safe).text)},
            {"status": "0x1", "message": draw(strategies(node_safe).text)},
        ]
    credential["credentialStatus"] = (
        [entry, {**entry, "id": entry["id"] + "0", "statusPurpose": "suspension"}]
        if draw(st.booleans())
        else entry
    )


def _evidence(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    credential["evidence"] = [
        {
            **({"id": draw(HTTP_URLS)} if draw(st.booleans()) else {}),
            "type": ["Evidence"],
            "narrative": draw(strategies(node_safe).text),
            "name": draw(strategies(node_safe).text),
            "genre": draw(st.sampled_from(["portfolio", "assessment"])),
            "audience": draw(strategies(node_safe).text),
        }
        for _ in range(draw(st.integers(1, 2)))
    ]


def _blank_node_ids(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """Explicit blank node ids, one node referenced twice (merged by the node map)."""
    achievement = _achievement(credential)
    label = "_:" + draw(st.sampled_from(["b0", "c14n0", "x", "Crit", "b1"]))
    achievement["criteria"]["id"] = label
    achievement["related"] = [{"id": label, "type": ["Related"], "version": "2"}]


def _arrays_and_nulls(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """Duplicates (merged), nulls (dropped) and nested arrays (flattened)."""
    achievement = _achievement(credential)
    tag = draw(strategies(node_safe).name)
    achievement["tag"] = [tag, None, tag, [draw(strategies(node_safe).name), [tag]], None]
    achievement["humanCode"] = None
    achievement["otherIdentifier"] = []


def _issuer_as_string(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    credential["issuer"] = credential["issuer"]["id"]


def _embedded_context(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """A node repeating a shipped context (identical protected terms may be redefined)."""
    _subject(credential)["@context"] = draw(st.sampled_from([OB, [OB], [V2, OB]]))


EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def _examples_vocab(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """The W3C examples context: its @vocab gives undefined terms (and types) an IRI."""
    credential["@context"] = [*credential["@context"], EXAMPLES_V2]
    credential["type"] = [*credential["type"], "ExampleDegreeCredential"]
    _subject(credential)["degree"] = {
        "type": "ExampleBachelorDegree",
        "name": draw(strategies(node_safe).text),
        "honours": draw(strategies(node_safe).scalar),
    }


DECORATIONS = [
    _edge_numbers,
    _extra_results,
    _duplicate_sibling,
    _twin_achievements,
    _language_values,
    _dates,
    _allowed_values,
    _json_schema,
    _status,
    _evidence,
    _blank_node_ids,
    _arrays_and_nulls,
    _issuer_as_string,
    _embedded_context,
    _examples_vocab,
]


_DECORATION_SETS = st.lists(st.sampled_from(DECORATIONS), max_size=4, unique=True)


UNDEFINED_TERMS_V2 = "https://www.w3.org/ns/credentials/undefined-terms/v2"


def _policing(draw: Any, credential: dict[str, Any], node_safe: bool) -> None:
    """Terms no context defines (dropped), keyword-shaped keys, the undefined-terms
    vocabulary, an inline or unknown context: what term policing must catch."""
    subject = _subject(credential)
    choice = draw(st.integers(0, 4))
    if choice == 0:
        subject["favouriteColour"] = draw(strategies(node_safe).text)
    elif choice == 1:
        _achievement(credential)["@foo"] = 1
    elif choice == 2:
        credential["@context"] = [*credential["@context"], UNDEFINED_TERMS_V2]
        subject["vagueTerm"] = {"deeper": draw(strategies(node_safe).text)}
    elif choice == 3:
        credential["@context"] = [*credential["@context"], {"ex": "https://ex.example/#"}]
        subject["ex:thing"] = "x"
    else:
        credential["@context"] = [*credential["@context"], "https://unknown.example/ctx"]


def _decorate(
    draw: Any,
    credential: dict[str, Any],
    node_safe: bool,
    chosen: list[Any] | None = None,
    policing: bool = False,
) -> dict[str, Any]:
    if chosen is None:
        chosen = draw(_DECORATION_SETS)
    if policing and draw(st.booleans()):
        chosen = [*chosen, _policing]
    # twins replace the achievement; apply them first so later decorations see the twins
    chosen.sort(key=lambda d: d is not _twin_achievements)
    for decoration in chosen:
        decoration(draw, credential, node_safe)
    return credential


def _presentation(draw: Any, inner: list[dict[str, Any]]) -> dict[str, Any]:
    """A VerifiablePresentation (verifiableCredential is an @graph container with a null
    scoped context) around credentials, the first one carrying a proof graph."""
    first = {
        **inner[0],
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-01-01T00:00:00Z",
            "verificationMethod": "did:key:z6Mkabc#z6Mkabc",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + "3" * 86,
        },
    }
    wrapped = [first, *inner[1:]]
    return {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": draw(DIDS),
        "verifiableCredential": wrapped if len(wrapped) > 1 else first,
    }


@st.composite
def credentials(draw: Any, node_safe: bool = True, policing: bool = False) -> dict[str, Any]:
    """A built microcredential with a random selection of decorations applied; with
    ``policing`` sometimes also undefined terms or contexts outside the fast path."""
    return _decorate(draw, draw(base_credentials(node_safe)), node_safe, policing=policing)


@st.composite
def presentations(draw: Any, node_safe: bool = True, policing: bool = False) -> dict[str, Any]:
    inner = credentials(node_safe, policing)
    return _presentation(draw, draw(st.lists(inner, min_size=1, max_size=2)))


def documents(node_safe: bool = True, policing: bool = False) -> Any:
    """Mostly credentials, sometimes presentations."""
    one = credentials(node_safe, policing)
    return st.one_of(one, one, one, presentations(node_safe, policing))


@st.composite
def document_batches(draw: Any, node_safe: bool = True, size: int = 4) -> list[dict[str, Any]]:
    """``size`` documents from one generated credential, each variant with its own,
    independently drawn decorations (and sometimes a presentation of two variants).

    Why batches: building one credential costs hypothesis ~40 ms of drawing, comparing it
    ~10 ms, so variants make a thousand-document differential run affordable in CI while
    every document still differs in what it stresses.
    """
    base = draw(base_credentials(node_safe))
    # a different set of decorations for each variant, so the variants differ
    choices = draw(st.lists(_DECORATION_SETS, min_size=size, max_size=size, unique_by=frozenset))
    batch = [_decorate(draw, copy.deepcopy(base), node_safe, list(c)) for c in choices]
    if size > 1 and draw(st.integers(0, 3)) == 0:
        batch[-1] = _presentation(draw, [batch[0], batch[-1]])
    return batch


def with_issuer(credential: dict[str, Any], issuer_id: str) -> dict[str, Any]:
    """The credential issued by ``issuer_id`` (whatever shape its issuer had)."""
    out = copy.deepcopy(credential)
    if isinstance(out["issuer"], dict):
        out["issuer"]["id"] = issuer_id
    else:
        out["issuer"] = issuer_id
    return out


__all__ = [
    "KNOWN_DIVERGENCES",
    "credentials",
    "document_batches",
    "documents",
    "issuers",
    "modules",
    "presentations",
    "with_issuer",
]
