"""The `microcred` command as a user runs it: keys, sign, verify, and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

V2 = "https://www.w3.org/ns/credentials/v2"


def run(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "microcred", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    result = run("keys", "generate", "--type", "ed25519")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "key.json"
    path.write_text(result.stdout)
    return path


def credential_for(key_file: Path) -> dict:
    key = json.loads(key_file.read_text())
    return {
        "@context": [V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "issuer": key["controller"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "module": "Statistics"},
    }


@pytest.mark.parametrize(("key_type", "prefix"), [("ed25519", "z6Mk"), ("p256", "zDna")])
def test_keys_generate(key_type: str, prefix: str) -> None:
    result = run("keys", "generate", "--type", key_type)
    key = json.loads(result.stdout)
    assert key["type"] == "Multikey"
    assert key["publicKeyMultibase"].startswith(prefix)
    assert key["controller"].startswith("did:key:")
    assert key["secretKeyMultibase"].startswith("z")


def test_keys_generate_with_controller() -> None:
    key = json.loads(run("keys", "generate", "--controller", "did:web:uni.example").stdout)
    assert key["controller"] == "did:web:uni.example"
    assert key["id"].startswith("did:web:uni.example#")


def test_unknown_key_type_exits_2() -> None:
    result = run("keys", "generate", "--type", "rsa")
    assert result.returncode == 2
    assert "rsa" in result.stderr


def test_sign_then_verify(tmp_path: Path, key_file: Path) -> None:
    source = tmp_path / "c.json"
    source.write_text(json.dumps(credential_for(key_file)))
    signed = run("sign", "--key", str(key_file), str(source))
    assert signed.returncode == 0, signed.stderr
    document = json.loads(signed.stdout)
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    target = tmp_path / "signed.json"
    target.write_text(signed.stdout)
    verified = run("verify", "--no-status", str(target))
    report = json.loads(verified.stdout)
    assert verified.returncode == 0, verified.stdout
    assert report["verified"] is True and report["errors"] == []
    document["credentialSubject"]["module"] = "Brain surgery"
    target.write_text(json.dumps(document))
    tampered = run("verify", "--no-status", str(target))
    assert tampered.returncode == 1
    assert json.loads(tampered.stdout)["errors"][0]["id"] == "proof"


def test_sign_from_stdin_with_fixed_created_reproduces_the_w3c_vector() -> None:
    key = FIXTURES / "vectors/eddsa-rdfc-2022/keyPair.json"
    unsigned = (FIXTURES / "vectors/eddsa-rdfc-2022/unsigned.json").read_text()
    result = run("sign", "--key", str(key), "--created", "2023-02-24T23:36:38Z", stdin=unsigned)
    expected = json.loads((FIXTURES / "vectors/eddsa-rdfc-2022/signedDataInt.json").read_text())
    assert json.loads(result.stdout) == expected
    assert "not the key's controller" in result.stderr


def test_p256_key_signs_with_ecdsa(tmp_path: Path) -> None:
    key_path = tmp_path / "p.json"
    key_path.write_text(run("keys", "generate", "--type", "p256").stdout)
    signed = run("sign", "--key", str(key_path), stdin=json.dumps(credential_for(key_path)))
    assert json.loads(signed.stdout)["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    verified = run("verify", "--no-status", stdin=signed.stdout)
    assert verified.returncode == 0, verified.stdout


def test_sign_refuses_undefined_terms(key_file: Path) -> None:
    credential = credential_for(key_file)
    credential["@context"] = [V2]
    result = run("sign", "--key", str(key_file), stdin=json.dumps(credential))
    assert result.returncode == 2
    assert "module" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('{"@context": ["https://www.w3.org/ns/credentials/v2"]}', "no proof"),
        ("[1, 2]", "not a JSON object"),
        ("[" * 10000 + "]" * 10000, "nested"),
    ],
)
def test_verify_unusable_input_exits_2(stdin: str, needle: str) -> None:
    result = run("verify", stdin=stdin)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_unknown_context_and_cryptosuite_exit_2(tmp_path: Path, key_file: Path) -> None:
    signed = json.loads(
        run("sign", "--key", str(key_file), stdin=json.dumps(credential_for(key_file))).stdout
    )
    unknown = dict(signed, **{"@context": [*signed["@context"], "https://evil.example/c"]})
    result = run("verify", stdin=json.dumps(unknown))
    assert result.returncode == 2 and "https://evil.example/c" in result.stderr
    suite = json.loads(json.dumps(signed))
    suite["proof"]["cryptosuite"] = "rsa-2000"
    result = run("verify", stdin=json.dumps(suite))
    assert result.returncode == 2 and "rsa-2000" in result.stderr


def test_sign_with_bad_key_file_exits_2(tmp_path: Path, key_file: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"secretKeyMultibase": "z0notbase58"}))
    result = run("sign", "--key", str(bad), stdin=json.dumps(credential_for(key_file)))
    assert result.returncode == 2
    assert "base58" in result.stderr


def test_missing_file_exits_2() -> None:
    result = run("verify", "/nonexistent/file.json")
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_verify_presentation_with_challenge_and_domain(tmp_path: Path, key_file: Path) -> None:
    from credentials.keys import Multikey
    from credentials.verify import create_presentation

    issuer = Multikey.from_dict(json.loads(key_file.read_text()))
    holder = Multikey.generate()
    credential = credential_for(key_file)
    credential["credentialSubject"]["id"] = holder.controller
    signed = json.loads(run("sign", "--key", str(key_file), stdin=json.dumps(credential)).stdout)
    vp = create_presentation([signed], holder, challenge="abc", domain="https://v.example")
    ok = run(
        "verify",
        "--no-status",
        "--challenge",
        "abc",
        "--domain",
        "https://v.example",
        stdin=json.dumps(vp),
    )
    assert ok.returncode == 0, ok.stdout
    wrong = run(
        "verify",
        "--no-status",
        "--challenge",
        "xyz",
        "--domain",
        "https://v.example",
        stdin=json.dumps(vp),
    )
    assert wrong.returncode == 1
    assert issuer.controller


# --------------------------------------------------------------------------- issue 13


def _jwt(claims: dict) -> str:
    import base64

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'EdDSA', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "stdin",
    [
        _jwt({"iss": "did:example:i", "vc": {"type": ["VerifiableCredential"]}}),
        _jwt({"iss": "did:example:i", "_sd_alg": "sha-256"}) + "~WyJzYWx0Il0~",
        json.dumps(
            {
                "@context": [V2],
                "type": ["VerifiableCredential"],
                "proof": {"type": "DataIntegrityProof", "cryptosuite": "bbs-2023"},
            }
        ),
    ],
    ids=["jwt-vc", "sd-jwt", "bbs-2023"],
)
def test_verify_an_unsupported_format_exits_2_naming_it(stdin: str) -> None:
    result = run("verify", stdin=stdin)
    assert result.returncode == 2
    assert "unsupported format: " in result.stderr
    assert "signature" not in result.stderr and "Traceback" not in result.stderr


def test_sign_and_verify_a_vcdm_1_1_credential_names_its_format(key_file: Path) -> None:
    key = json.loads(key_file.read_text())
    credential = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
        ],
        "type": ["VerifiableCredential"],
        "issuer": key["controller"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    signed = run(
        "sign", "--key", str(key_file), "--cryptosuite", "Ed25519Signature2020",
        stdin=json.dumps(credential),
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    result = run("verify", "--no-status", stdin=signed.stdout)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["format"] == "VCDM 1.1 · Ed25519Signature2020"


def test_verify_policies(key_file: Path) -> None:
    credential = credential_for(key_file)
    credential["@context"] = [V2, {"module": "https://vocab.example/#module"}]
    from credentials.keys import Multikey
    from credentials.proofs import sign

    key = Multikey.from_dict(json.loads(key_file.read_text()))
    signed = json.dumps(sign(credential, key, strict=False))
    assert run("verify", "--no-status", stdin=signed).returncode == 0
    strict = run("verify", "--no-status", "--policy", "no-inline-contexts", stdin=signed)
    assert strict.returncode == 1
    assert json.loads(strict.stdout)["errors"][0]["code"] == "policy_inline_context"
    typo = run("verify", "--policy", "no-inline", stdin=signed)
    assert typo.returncode == 2 and "unknown policy" in typo.stderr


@pytest.mark.parametrize("tamper", [False, True], ids=["genuine", "tampered"])
def test_verify_a_signed_open_badges_2_assertion_given_as_a_bare_jws(
    tmp_path: Path, tamper: bool
) -> None:
    """A signed OB 2.0 badge travels as a compact JWS file, not as JSON: exit 0 when its
    signature and its issuer's key verify, 1 when the payload was changed (never exit 2
    "not a JSON object"); the issuer's key is served by a local badge host (--dev)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from credentials.ob2 import sign_ob2
    from tests.credentials.test_ob2 import _signed_setup
    from tests.support.badge_host import badge_host

    key = rsa.generate_private_key(65537, 2048)
    with badge_host() as host:
        assertion = _signed_setup(host, key, "RS256")
        jws = sign_ob2(assertion, key)
        if tamper:
            header, _, signature = jws.split(".")
            forged = sign_ob2({**assertion, "issuedOn": "2019-01-01T00:00:00Z"}, key)
            jws = f"{header}.{forged.split('.')[1]}.{signature}"
        path = tmp_path / "badge.jws"
        path.write_text(jws + "\n")
        result = run("verify", "--dev", str(path))
    assert "Traceback" not in result.stderr
    assert result.returncode == (1 if tamper else 0), (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["format"] == "Open Badges 2.0 · signed"
    proof = next(c for c in report["checks"] if c["id"] == "proof")
    assert proof["code"] == ("invalid_signature" if tamper else "ob2_signed")
