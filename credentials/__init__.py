"""microcred's credential core: data model, proofs, keys and DIDs, status lists, the
document loader, the microcredential profile, DCQL, the rules engine and the verification
report. Nothing here imports a web framework or a database.

This namespace is the core's public API, curated in httpx's style: import from
``credentials`` (``from credentials import Verifier, sign``); the modules behind it are
implementation and may be split or renamed without notice. ``__all__`` lists exactly the
public names (tests/credentials/test_public_api.py holds it to that). Names that would be
ambiguous out of their module get an explicit one here (``TOKEN_STATUS_LIST_MEDIA_TYPE``,
``policy_failed``, ``OB2_ACCEPT``); a caller may alias them back on import.

Six families are exported as namespaces as well, because their members read as a
vocabulary with the prefix and clash without it (``ecdsa_sd.derive``,
``sdjwt_core.present``, ``sdjwt_vc.FORMAT``, ``openid4vp.CRYPTOSUITES``): ``disclosure``,
``ecdsa_sd``, ``openid4vp``, ``sdjwt_core``, ``sdjwt_jose`` and ``sdjwt_vc``. See
docs/design.md, "The core's public API".
"""

from . import disclosure, ecdsa_sd, openid4vp
from .canonical import canonicalize
from .datafiles import load_data_file
from .dates import format_datetime, parse_datetime, parse_xsd_datetime, read_datetime
from .dcql import FORMAT as LDP_VC_FORMAT
from .dcql import (
    SD_JWT_FORMAT,
    Claim,
    CredentialQuery,
    DcqlError,
    DcqlQuery,
    RequestSpec,
    dcql_query,
    parse_dcql,
    queries_for,
    select_path,
)
from .dids import DID_CONTEXT, DidResolver, did_web_from_url, did_web_url
from .documents import DocumentLoader
from .errors import (
    CanonicalizationError,
    ConformanceError,
    DidResolutionError,
    DocumentLoaderError,
    FetchError,
    InvalidProof,
    KeyFormatError,
    MalformedInput,
    MicrocredError,
    SchemaError,
    StatusListError,
    UndefinedTermError,
    UnsupportedError,
)
from .evidence import check_stack, evidence_entry, evidence_id, evidence_refs
from .fetch import FetchHTTPError, FetchPolicy, FetchResponse, SafeFetcher
from .formats import detect_format, format_of_media_type
from .jose import decode_unverified, resolve_jwt_key, sign_jwt, verify_jwt
from .keys import MULTIKEY_CONTEXT, Multikey, normalise_algorithm
from .keystore import Keystore, KeystoreError
from .microcredential import CONTEXT as MICROCREDENTIAL_CONTEXT
from .microcredential import (
    COUNTRY_NAMES,
    CREDENTIAL_TYPE,
    PARTICIPATION_FORMS,
    SUPERVISION,
    Alignment,
    IssuerProfile,
    Learner,
    MicrocredentialView,
    ModuleDefinition,
    QualityAssurance,
    Result,
    build_credential,
    read_microcredential,
)
from .model import MAX_BYTES as MAX_DOCUMENT_BYTES
from .model import (
    check_credential,
    check_limits,
    check_presentation,
    embedded_credentials,
    holder_id,
    is_url,
    issuer_id,
    parse_json,
    subject_ids,
)
from .ob2 import verify_with as verify_ob2_with
from .ob2_reading import ACCEPT as OB2_ACCEPT
from .ob2_reading import is_ob2, is_ob2_assertion
from .openid4vp import (
    REQUEST_OBJECT_MEDIA_TYPE,
    binding_holds,
    by_value_uri,
    counted_indexes,
    is_sd_jwt,
    parse_direct_post,
    proof_domains,
    sign_request_object,
)
from .policies import STRICT as STRICT_POLICIES
from .policies import Policy, parse_policies
from .policies import failed as policy_failed
from .proofs import sign, verify_proofs
from .reading import read_credential
from .report import Check, VerificationReport
from .rules import Route, RouteResult, evaluate, load_route
from .schema import validate_microcredential
from .sdjwt import core as sdjwt_core
from .sdjwt import jose as sdjwt_jose
from .sdjwt import vc as sdjwt_vc
from .sdjwt.reading import is_sd_jwt_vc, sd_jwt_claims
from .sdjwt.status import INVALID as TOKEN_STATUS_INVALID
from .sdjwt.status import MEDIA_TYPE as TOKEN_STATUS_LIST_MEDIA_TYPE
from .sdjwt.status import SUSPENDED as TOKEN_STATUS_SUSPENDED
from .sdjwt.status import TokenStatusList
from .sdjwt.status import sign_status_list as sign_token_status_list
from .sdjwt.status import status_reference as token_status_reference
from .setup import default_verifier
from .status import StatusListCache, check_status
from .status_list import MIN_LENGTH as STATUS_LIST_MIN_LENGTH
from .status_list import StatusList, StatusPurpose, status_entry, status_list_credential
from .verify import NO_PROFILE, Verifier, create_presentation

__all__ = [
    "COUNTRY_NAMES",
    "CREDENTIAL_TYPE",
    "DID_CONTEXT",
    "LDP_VC_FORMAT",
    "MAX_DOCUMENT_BYTES",
    "MICROCREDENTIAL_CONTEXT",
    "MULTIKEY_CONTEXT",
    "NO_PROFILE",
    "OB2_ACCEPT",
    "PARTICIPATION_FORMS",
    "REQUEST_OBJECT_MEDIA_TYPE",
    "SD_JWT_FORMAT",
    "STATUS_LIST_MIN_LENGTH",
    "STRICT_POLICIES",
    "SUPERVISION",
    "TOKEN_STATUS_INVALID",
    "TOKEN_STATUS_LIST_MEDIA_TYPE",
    "TOKEN_STATUS_SUSPENDED",
    "Alignment",
    "CanonicalizationError",
    "Check",
    "Claim",
    "ConformanceError",
    "CredentialQuery",
    "DcqlError",
    "DcqlQuery",
    "DidResolutionError",
    "DidResolver",
    "DocumentLoader",
    "DocumentLoaderError",
    "FetchError",
    "FetchHTTPError",
    "FetchPolicy",
    "FetchResponse",
    "InvalidProof",
    "IssuerProfile",
    "KeyFormatError",
    "Keystore",
    "KeystoreError",
    "Learner",
    "MalformedInput",
    "MicrocredError",
    "MicrocredentialView",
    "ModuleDefinition",
    "Multikey",
    "Policy",
    "QualityAssurance",
    "RequestSpec",
    "Result",
    "Route",
    "RouteResult",
    "SafeFetcher",
    "SchemaError",
    "StatusList",
    "StatusListCache",
    "StatusListError",
    "StatusPurpose",
    "TokenStatusList",
    "UndefinedTermError",
    "UnsupportedError",
    "VerificationReport",
    "Verifier",
    "binding_holds",
    "build_credential",
    "by_value_uri",
    "canonicalize",
    "check_credential",
    "check_limits",
    "check_presentation",
    "check_stack",
    "check_status",
    "counted_indexes",
    "create_presentation",
    "dcql_query",
    "decode_unverified",
    "default_verifier",
    "detect_format",
    "did_web_from_url",
    "did_web_url",
    "disclosure",
    "ecdsa_sd",
    "embedded_credentials",
    "evaluate",
    "evidence_entry",
    "evidence_id",
    "evidence_refs",
    "format_datetime",
    "format_of_media_type",
    "holder_id",
    "is_ob2",
    "is_ob2_assertion",
    "is_sd_jwt",
    "is_sd_jwt_vc",
    "is_url",
    "issuer_id",
    "load_data_file",
    "load_route",
    "normalise_algorithm",
    "openid4vp",
    "parse_datetime",
    "parse_dcql",
    "parse_direct_post",
    "parse_json",
    "parse_policies",
    "parse_xsd_datetime",
    "policy_failed",
    "proof_domains",
    "queries_for",
    "read_credential",
    "read_datetime",
    "read_microcredential",
    "resolve_jwt_key",
    "sd_jwt_claims",
    "sdjwt_core",
    "sdjwt_jose",
    "sdjwt_vc",
    "select_path",
    "sign",
    "sign_jwt",
    "sign_request_object",
    "sign_token_status_list",
    "status_entry",
    "status_list_credential",
    "subject_ids",
    "token_status_reference",
    "validate_microcredential",
    "verify_jwt",
    "verify_ob2_with",
    "verify_proofs",
]
