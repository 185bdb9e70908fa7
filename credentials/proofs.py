"""Creating and verifying Data Integrity proofs, with their proof purposes.

Signing is a caller action and raises at once on a mistake (unknown term, wrong key).
Verifying is an inspection and returns ``Check`` entries — one per concern (format,
purpose, verification method, signature) — so that a report can say exactly what failed.
The signature step itself is opaque: whatever goes wrong there is "invalid_proof".

A document may carry several proofs (Data Integrity §2.1.1 proof sets, §2.1.2 proof
chains). Each proof of a set signs the document without any proof; a proof naming
``previousProof`` signs the document *with* the proofs it names, so verifying it needs
them (§4.3 add proof / §4.4 verify proof). A proof of a kind the specs define but
microcred does not implement is "unsupported" (``unsupported_proof_type``,
``unsupported_cryptosuite``), never "invalid".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from . import ecdsa_sd
from .canonical import canonicalize
from .cryptosuites import Cryptosuite, suite_for_key, suite_for_proof, suite_named
from .dates import format_datetime, parse_datetime
from .dids import DidResolver
from .documents import DocumentLoader, refuse_inline_contexts
from .errors import InvalidProof, MicrocredError
from .keys import Multikey
from .report import Check

PURPOSES = ("assertionMethod", "authentication")


def _proof_config(
    document: dict[str, Any], proof: dict[str, Any], suite: Cryptosuite | None = None
) -> dict[str, Any]:
    """The proof options a suite hashes: the proof without its value, in a context.

    RDFC Data Integrity suites put the document's ``@context`` on it; Linked Data
    Signatures (Ed25519Signature2020) do too, but a proof's own ``@context`` wins there; the
    JCS suites hash the proof as it stands (signing copied the document's context into it).
    """
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if suite is not None and suite.transform == "jcs":
        return config
    if suite is not None and not suite.is_data_integrity:
        return {"@context": document.get("@context"), **config}
    config["@context"] = document.get("@context")
    return config


def _copy_json(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars) that shares nothing mutable.

    ``copy.deepcopy`` does the same with memo bookkeeping JSON never needs; in a cohort
    batch it was about 15 % of a signing worker's time. Anything that is not a dict or a
    list is immutable in a JSON document and shared as it is.
    """
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def proof_suite_names(document: Any) -> list[str]:
    """The suites of ``document``'s proofs as a report names them, in proof order.

    A Data Integrity proof is named by its cryptosuite (``eddsa-rdfc-2022``), any other
    proof by its type (``Ed25519Signature2020``, ``JwtProof2020``); a proof without either
    is ``"unknown"``. For the report's format line ("VCDM 1.1 · Ed25519Signature2020").
    """
    proofs = document.get("proof") if isinstance(document, dict) else None
    names = []
    for proof in _as_list(proofs) if proofs else []:
        if not isinstance(proof, dict):
            names.append("unknown")
            continue
        kind, suite = proof.get("type"), proof.get("cryptosuite")
        name = suite if kind == "DataIntegrityProof" and isinstance(suite, str) else kind
        names.append(name if isinstance(name, str) and name else "unknown")
    return names


#: The default tolerance between a signer's clock and the verifier's (see ``verify_proofs``).
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


def sign(
    document: dict[str, Any],
    key: Multikey,
    *,
    purpose: str = "assertionMethod",
    created: datetime | str | None = None,
    challenge: str | None = None,
    domain: str | list[str] | None = None,
    expires: datetime | str | None = None,
    loader: DocumentLoader | None = None,
    strict: bool = True,
    cryptosuite: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
    mandatory_pointers: list[str] | None = None,
) -> dict[str, Any]:
    """A copy of ``document`` secured with one more proof by ``key``.

    ``cryptosuite`` picks the suite (a Data Integrity cryptosuite name, or
    ``Ed25519Signature2020``); by default it follows the key (eddsa-rdfc-2022 /
    ecdsa-rdfc-2019). A document that already has proofs gets a proof set; naming some of
    them (by ``id``) in ``previous_proof`` makes a proof chain. ``ecdsa-sd-2023`` makes a
    base proof whose ``mandatory_pointers`` (JSON pointers) always travel with it.
    """
    if purpose not in PURPOSES:
        raise MicrocredError(f"unsupported proof purpose {purpose!r}", code="unsupported_purpose")
    suite = suite_named(cryptosuite) if cryptosuite else suite_for_key(key)
    suite.check_key(key)
    unsecured = _unsecured(document)
    if strict:
        refuse_inline_contexts(unsecured)
    proof: dict[str, Any] = {"type": suite.proof_type}
    if proof_id is not None:
        proof["id"] = proof_id
    if suite.is_data_integrity:
        proof["cryptosuite"] = suite.name
    proof["created"] = format_datetime(created)
    proof["verificationMethod"] = key.id
    proof["proofPurpose"] = purpose
    if previous_proof is not None:
        proof["previousProof"] = previous_proof
    if expires is not None:
        proof["expires"] = format_datetime(expires)
    if domain is not None:
        proof["domain"] = domain
    if challenge is not None:
        proof["challenge"] = challenge
    if suite.transform == "jcs" and "@context" in unsecured:
        proof["@context"] = unsecured["@context"]
    existing = document.get("proof")
    existing_list = (existing if isinstance(existing, list) else [existing]) if existing else []
    signed_input = unsecured
    if previous_proof is not None:
        matching, missing = _matching_proofs(previous_proof, existing_list)
        if missing:
            raise MicrocredError(
                f"previousProof names proofs the document does not have: {', '.join(missing)}",
                code="previous_proof_missing",
            )
        signed_input = {**unsecured, "proof": matching}
    if suite.selective:
        if strict:
            canonicalize(signed_input, loader or DocumentLoader(), strict=True)
        proof["proofValue"] = ecdsa_sd.create_base_proof_value(
            signed_input,
            _proof_config(unsecured, proof, suite),
            key,
            list(mandatory_pointers or []),
            loader or DocumentLoader(),
        )
    else:
        hash_data = suite.hash_data(
            signed_input,
            _proof_config(unsecured, proof, suite),
            loader or DocumentLoader(),
            strict=strict,
            algorithm=key.algorithm,
        )
        proof["proofValue"] = suite.sign(hash_data, key)
    secured = _copy_json(unsecured)
    if existing_list:
        secured["proof"] = [*existing_list, proof]
    else:
        secured["proof"] = proof
    return secured


def _matching_proofs(previous: object, proofs: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The proofs ``previousProof`` names, in its order, and the ids it names in vain."""
    wanted = previous if isinstance(previous, list) else [previous]
    by_id = {p.get("id"): p for p in proofs if isinstance(p, dict) and p.get("id")}
    matching = [by_id[w] for w in wanted if isinstance(w, str) and w in by_id]
    missing = [str(w) for w in wanted if not isinstance(w, str) or w not in by_id]
    return matching, missing


def verify_proofs(
    document: dict[str, Any],
    *,
    resolver: DidResolver,
    purpose: str,
    loader: DocumentLoader | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    canonical_document: str | None = None,
    signers: list[Multikey] | None = None,
) -> tuple[list[Check], list[Multikey]]:
    """Checks for every proof on ``document`` and the keys whose proofs verified.

    ``signers``, when given, collects every key whose *signature* verified, whatever the
    purpose check said (a presentation without a challenge still has a signer, and that
    signer must still be its holder: ``Verifier.verify_presentation``).

    ``clock_skew`` is the tolerance between the signer's clock and ``now`` for the proof's
    ``created`` (not later than now) and ``expires`` (not earlier than now): the same
    tolerance the Verifier gives ``validFrom`` and ``validUntil``.
    """
    loader = loader or DocumentLoader(resolver)
    proofs = document.get("proof")
    if not proofs:
        return [Check.failed("proof", "proof_missing", "the document has no proof")], []
    if isinstance(proofs, dict):
        proofs = [proofs]
    if not isinstance(proofs, list) or not all(isinstance(p, dict) for p in proofs):
        return [Check.failed("proof", "proof_malformed", "proof must be an object or a list")], []
    checks: list[Check] = []
    keys: list[Multikey] = []
    unsecured = _unsecured(document)
    for proof in proofs:
        window = (now or datetime.now(UTC), clock_skew)
        signed_input, canonical = unsecured, canonical_document
        if "previousProof" in proof:
            # a proof chain: this proof signed the document together with the proofs it names
            matching, missing = _matching_proofs(proof["previousProof"], proofs)
            if missing:
                checks.append(
                    Check.failed(
                        "proof",
                        "previous_proof_missing",
                        "previousProof names proofs the document does not have: "
                        + ", ".join(missing),
                    )
                )
                continue
            signed_input, canonical = {**unsecured, "proof": matching}, None
        proof_checks, key = _verify_one(
            signed_input, proof, resolver, loader, purpose, challenge, domain, window, canonical
        )
        checks.extend(proof_checks)
        if key is not None and signers is not None:
            signers.append(key)
        if key is not None and _purpose_passed(proof_checks):
            keys.append(key)
    if keys:
        checks = [_set_aside_if_unsupported(check) for check in checks]
    return checks, keys


#: Codes of proofs microcred recognises but does not implement (the report's "unsupported").
UNSUPPORTED_PROOF_CODES = frozenset({"unsupported_cryptosuite", "unsupported_proof_type"})


def _set_aside_if_unsupported(check: Check) -> Check:
    """A proof of a suite microcred does not implement, next to one that verified, is set
    aside as a warning, as jsonld-signatures ignores proofs no suite it was given matches;
    on its own it still fails (nothing then proves the document)."""
    if check.outcome == "failed" and check.code in UNSUPPORTED_PROOF_CODES:
        return Check.warning(
            check.id, check.code, check.message + "; set aside: another proof verified"
        )
    return check


def _verify_one(
    unsecured: dict[str, Any],
    proof: dict[str, Any],
    resolver: DidResolver,
    loader: DocumentLoader,
    purpose: str,
    challenge: str | None,
    domain: str | None,
    window: tuple[datetime, timedelta],
    canonical_document: str | None,
) -> tuple[list[Check], Multikey | None]:
    checks: list[Check] = []
    # 1. shape and time
    try:
        suite = suite_for_proof(proof)
    except MicrocredError as exc:
        return [Check.failed("proof", exc.code, exc.message)], None
    problem = _proof_shape_problem(proof, unsecured, suite) or _proof_time_problem(proof, *window)
    if problem:
        return [Check.failed("proof", *problem)], None
    # 2. purpose, challenge, domain
    purpose_check = _purpose_check(proof, purpose, challenge, domain)
    checks.append(purpose_check)
    # 3. verification method
    vm_id = proof["verificationMethod"]
    try:
        vm = resolver.verification_method(vm_id)
        key = Multikey.from_verification_method(vm, id=vm_id)
        if key.controller != vm_id.split("#", 1)[0]:
            raise MicrocredError(
                "the verification method's controller is not the DID it belongs to",
                code="vm_controller_mismatch",
            )
        if not resolver.is_authorised(vm_id, purpose):
            raise MicrocredError(
                f"{vm_id} is not authorised for {purpose} by its controller",
                code="vm_not_authorised",
            )
        suite.check_key(key)
    except MicrocredError as exc:
        checks.append(Check.failed("verification_method", exc.code, exc.message))
        return checks, None
    checks.append(Check.passed("verification_method", f"{vm_id} is authorised for {purpose}"))
    # 4. signature
    if suite.transform == "jcs" and "@context" in proof:
        # the JCS suites sign the document under the proof's context (checked to be a
        # prefix of the document's by the shape check)
        unsecured = {**unsecured, "@context": proof["@context"]}
    if suite.selective:
        return _verify_selective(
            unsecured, proof, suite, loader, key, canonical_document, checks, purpose_check
        )
    try:
        hash_data = suite.hash_data(
            unsecured,
            _proof_config(unsecured, proof, suite),
            loader,
            strict=False,
            canonical_document=canonical_document,
            algorithm=key.algorithm,
        )
        valid = suite.verify(hash_data, proof["proofValue"], key)
    except MicrocredError as exc:
        checks.append(Check.failed("proof", exc.code, exc.message))
        return checks, None
    if not valid:
        checks.append(
            Check.failed("proof", "invalid_proof", f"the {suite.name} signature does not verify")
        )
        return checks, None
    checks.append(Check.passed("proof", f"{suite.name} signature verified"))
    return checks, key


def _purpose_passed(checks: list[Check]) -> bool:
    """Whether the purpose check among one proof's checks passed (a key counts as the
    document's only then; its signature alone still names a signer)."""
    return any(c.id == "proof_purpose" and c.outcome == "passed" for c in checks)


def _verify_selective(
    unsecured: dict[str, Any],
    proof: dict[str, Any],
    suite: Cryptosuite,
    loader: DocumentLoader,
    key: Multikey,
    canonical_document: str | None,
    checks: list[Check],
    purpose_check: Check,
) -> tuple[list[Check], Multikey | None]:
    """ecdsa-sd-2023: a derived proof (what a verifier is shown) or a base proof (what the
    holder receives from the issuer; she has its HMAC key and checks every statement)."""
    config = _proof_config(unsecured, proof, suite)
    value = proof["proofValue"]
    try:
        if ecdsa_sd.is_derived(value):
            ecdsa_sd.verify_derived(
                unsecured, config, value, key, loader, canonical_document=canonical_document
            )
            message = "ecdsa-sd-2023 derived proof verified (selectively disclosed)"
        else:
            ecdsa_sd.verify_base(unsecured, config, value, key, loader)
            message = "ecdsa-sd-2023 base proof verified (every statement)"
    except ecdsa_sd.SdError as exc:
        # one code for every way the proof fails, as for the other suites
        message = exc.message if exc.code in ecdsa_sd.SIGNATURE_CODES else ""
        failure = InvalidProof(message or f"the {suite.name} signature does not verify")
        checks.append(Check.failed("proof", failure.code, failure.message))
        return checks, None
    except MicrocredError as exc:
        checks.append(Check.failed("proof", exc.code, exc.message))
        return checks, None
    checks.append(Check.passed("proof", message))
    return checks, (key if purpose_check.outcome == "passed" else None)


def _proof_shape_problem(
    proof: dict[str, Any], unsecured: dict[str, Any], suite: Cryptosuite
) -> tuple[str, str] | None:
    required: tuple[str, ...] = ("proofPurpose", "verificationMethod")
    if suite.is_data_integrity:
        required = ("cryptosuite", *required)
    for name in required:
        if not isinstance(proof.get(name), str) or not proof.get(name):
            return "proof_malformed", f"proof.{name} is required and must be a string"
    if not isinstance(proof.get("proofValue"), str) or not proof["proofValue"]:
        # an absent, empty or non-string value is one more way of not being a signature:
        # opaque like every other (see ``Cryptosuite.verify``), not "unusable input"
        return "invalid_proof", f"the {suite.name} signature does not verify"
    if not suite.is_data_integrity and SUITE_CONTEXTS[suite.name] not in _as_list(
        unsecured.get("@context")
    ):
        # Linked Data Signatures define their proof terms in the suite context: without
        # it the proof has no meaning (jsonld-signatures will not even match the proof)
        return (
            "proof_context_mismatch",
            f"a {suite.name} proof needs {SUITE_CONTEXTS[suite.name]} in the document's @context",
        )
    if "@context" in proof:
        ctx = unsecured.get("@context")
        doc_ctx = ctx if isinstance(ctx, list) else [ctx]
        proof_ctx = (
            proof["@context"] if isinstance(proof["@context"], list) else [proof["@context"]]
        )
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            return "proof_context_mismatch", "proof @context does not match the document's"
    for name in ("created", "expires"):
        if name in proof:
            try:
                parse_datetime(proof[name])
            except ValueError:
                return "proof_malformed", f"proof.{name} is not an XML Schema dateTimeStamp"
    return None


SUITE_CONTEXTS = {"Ed25519Signature2020": "https://w3id.org/security/suites/ed25519-2020/v1"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _proof_time_problem(
    proof: dict[str, Any], now: datetime, skew: timedelta
) -> tuple[str, str] | None:
    """A proof from the future is no proof of anything yet: a signer whose clock runs far
    ahead (or who back-dates nothing and forward-dates everything) is refused beyond the
    tolerance, as an expired proof is."""
    if "created" in proof and parse_datetime(proof["created"]) > now + skew:
        return "proof_not_yet_valid", f"the proof was created in the future ({proof['created']})"
    if "expires" in proof and parse_datetime(proof["expires"]) < now - skew:
        return "proof_expired", f"the proof expired at {proof['expires']}"
    return None


def _purpose_check(
    proof: dict[str, Any], purpose: str, challenge: str | None, domain: str | None
) -> Check:
    actual = proof.get("proofPurpose")
    if actual != purpose:
        return Check.failed(
            "proof_purpose", "wrong_proof_purpose", f"expected proofPurpose {purpose}, got {actual}"
        )
    if challenge is not None and proof.get("challenge") != challenge:
        return Check.failed(
            "proof_purpose", "challenge_mismatch", "the proof's challenge is not the one expected"
        )
    if domain is not None:
        got = proof.get("domain")
        domains = got if isinstance(got, list) else [got]
        if domain not in domains:
            return Check.failed(
                "proof_purpose", "domain_mismatch", f"the proof is not bound to domain {domain}"
            )
    if purpose == "authentication" and challenge is None and domain is None:
        return Check.warning(
            "proof_purpose",
            "no_challenge_checked",
            "no challenge or domain was given to check: the presentation could be a replay",
        )
    return Check.passed("proof_purpose", f"proofPurpose {purpose}")
