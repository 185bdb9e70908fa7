"""The ``microcred`` command: keys, sign and verify here; serve, migrate, demo and the
services' admin groups from :mod:`microcred.commands`, added explicitly by
:func:`microcred.commands.register` at the end of this module (no command is registered
as a side effect of importing some other module).

Exit codes are part of the contract: 0 success (verified), 1 not verified, 2 unusable
input or a refused operation — always with a one-line message on stderr, never a traceback.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from credentials import (
    MicrocredError,
    Multikey,
    check_credential,
    detect_format,
    issuer_id,
    parse_json,
    parse_policies,
)
from credentials import sign as sign_document
from servicekit.cli import fail, print_json

app = typer.Typer(
    name="microcred",
    help="Issue, hold and verify EU microcredentials (W3C VC 2.0 / Open Badges 3.0).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Key pairs (Multikey).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def read_json_input(path: Path | None, *, credential: bool = False) -> Any:
    """Read a JSON document from a file or stdin, refusing anything unusable.

    With ``credential``, input that is not JSON but a recognised unsupported format (a
    compact JWT, an SD-JWT) is refused as that format rather than as broken JSON, and a
    signed Open Badges 2.0 assertion (a compact JWS, which is how such badges travel) is
    returned as its text for the OB 2.0 verifier.
    """
    try:
        data = path.read_bytes() if path else sys.stdin.buffer.read()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    try:
        return parse_json(data)
    except MicrocredError as exc:
        if credential:
            text = data[:1_048_576].decode("ascii", "replace").strip()
            found = detect_format(text)
            if not found.supported:
                fail(found.message)
            if found.family == "ob2":
                return text
        fail(exc.message)


@keys_app.command("generate")
def keys_generate(
    key_type: Annotated[str, typer.Option("--type", help="ed25519 or p256")] = "ed25519",
    controller: Annotated[
        str, typer.Option(help="controller DID (default: the key's did:key)")
    ] = "",
) -> None:
    """Print a new Multikey key pair as JSON (keep the secret safe)."""
    try:
        key = Multikey.generate(key_type, controller=controller)
    except MicrocredError as exc:
        fail(exc.message)
    print_json(key.to_secret_dict())


@app.command("sign")
def sign(
    key_file: Annotated[Path, typer.Option("--key", help="Multikey JSON file with the secret")],
    file: Annotated[Path | None, typer.Argument(help="credential JSON (stdin when absent)")] = None,
    created: Annotated[str | None, typer.Option(help="fix the proof's created time")] = None,
    cryptosuite: Annotated[
        str | None,
        typer.Option(help="e.g. Ed25519Signature2020 for a VCDM 1.1 credential (default: by key)"),
    ] = None,
) -> None:
    """Sign a credential with a DataIntegrityProof (eddsa-rdfc-2022 or ecdsa-rdfc-2019), or
    the suite named by ``--cryptosuite``."""
    key_data = read_json_input(key_file)
    credential = read_json_input(file)
    try:
        key = Multikey.from_dict(key_data)
        if not key.has_secret:
            fail("the key file has no secretKeyMultibase")
        check_credential(credential)
        if issuer_id(credential) != key.controller:
            typer.echo(
                f"microcred: warning: the issuer {issuer_id(credential)} is not the key's "
                f"controller {key.controller}; verifiers will reject the credential",
                err=True,
            )
        signed = sign_document(credential, key, created=created, cryptosuite=cryptosuite)
    except MicrocredError as exc:
        fail(exc.message)
    except ValueError as exc:
        fail(str(exc))
    print_json(signed)


@app.command("verify")
def verify(
    file: Annotated[
        Path | None, typer.Argument(help="credential or presentation (stdin when absent)")
    ] = None,
    challenge: Annotated[str | None, typer.Option(help="expected presentation challenge")] = None,
    domain: Annotated[str | None, typer.Option(help="expected presentation domain")] = None,
    dev: Annotated[
        bool, typer.Option(help="allow http and loopback for did:web and status")
    ] = False,
    no_status: Annotated[bool, typer.Option("--no-status", help="skip the status check")] = False,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            help="a stricter policy to apply (repeatable): no-inline-contexts, "
            "holder-is-subject, trusted-issuers-only, profile-required"
        ),
    ] = None,
) -> None:
    """Verify a credential or presentation and print the report (with the format met).

    Exit 0 when verified, 1 when not, 2 when the input is unusable or in a format microcred
    recognises but does not support (a JWT-secured VC, SD-JWT, BBS).
    """
    from .verification import build_verifier

    try:
        policies = parse_policies(policy or [])
    except MicrocredError as exc:
        fail(exc.message)
    document = read_json_input(file, credential=True)
    found = detect_format(document)
    if not found.supported:
        fail(found.message)
    if not isinstance(document, dict) and found.family != "ob2":
        fail("the input is not a JSON object")
    if found.family in ("vc2", "vc11", "unknown") and not document.get("proof"):
        fail("the document has no proof")
    verifier = build_verifier(dev=dev)
    verifier.policies = policies
    types = (document.get("type") or []) if isinstance(document, dict) else []
    types = types if isinstance(types, list) else [types]
    if "VerifiablePresentation" in types:
        report, _ = verifier.verify_presentation(
            document, challenge=challenge, domain=domain, check_status=not no_status
        )
    else:
        report = verifier.verify_credential(document, check_status=not no_status)
    print_json(report.to_dict())
    unusable = {
        "unsupported_format",
        "unsupported_proof_type",
        "unknown_context",
        "unsupported_cryptosuite",
        "invalid_key",
        "non_conformant",
        "document_not_allowed",
        "jsonld_error",
        "undefined_term",
        "proof_malformed",
    }
    if any(check.code in unusable for check in report.failed):
        first = next(c for c in report.failed if c.code in unusable)
        fail(first.message, 2)
    raise typer.Exit(0 if report.verified else 1)


def main() -> None:
    # operators see a setting's deprecated name (Python hides DeprecationWarning by default)
    warnings.filterwarnings("default", message=r"\S+ is deprecated; set MICROCRED_")
    app()


from .commands import register  # noqa: E402  (commands does not import this module)

register(app)

if __name__ == "__main__":
    main()
