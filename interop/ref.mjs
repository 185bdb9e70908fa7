#!/usr/bin/env node
/**
 * microcred interop harness: drives the Digital Bazaar reference
 * implementation (@digitalbazaar/vc + Data Integrity cryptosuites) on behalf
 * of the Python test-suite and benchmarks (tests/interop/reference.py).
 *
 * Protocol: JSON lines. Each line on stdin is one request object with an
 * `op` field (and optionally an `id`, echoed back); each request produces
 * exactly one line on stdout, in request order:
 *   {"ok": true, "result": ...}   or   {"ok": false, "error": "message"}
 * Nothing else is ever written to stdout (console.log is redirected to
 * stderr so a chatty dependency cannot corrupt the stream).
 *
 * Operations: info, generateKey, sign, verify, present, verifyPresentation,
 * canonize, bench, sdSign, sdDerive. `sdSign` makes an ecdsa-sd-2023 base
 * proof over `mandatoryPointers`; `sdDerive` derives a reveal document over
 * `selectivePointers`; `verify` also verifies ecdsa-sd-2023 derived proofs. See the handlers below and tests/interop/reference.py.
 * `sign` takes an optional `suite` (eddsa-rdfc-2022, ecdsa-rdfc-2019,
 * eddsa-jcs-2022, ecdsa-jcs-2019 or Ed25519Signature2020; default: by key
 * type); `verify` accepts proofs of any of those suites.
 *
 * Network policy: JSON-LD contexts come only from ../contexts (the files the
 * project ships, listed in MANIFEST.json); did:key is resolved locally;
 * did:web is fetched over https, or over plain http for loopback hosts only
 * (test issuers). Any other URL is refused with an error naming it, unless
 * the request supplies the document itself in `documents` (url -> JSON).
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {describeError, serveJsonLines} from './jsonlines.mjs';

import * as vc from '@digitalbazaar/vc';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {CachedResolver} from '@digitalbazaar/did-io';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import {cryptosuite as ecdsaRdfc2019} from
  '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as eddsaJcs2022 from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as ecdsaJcs2019 from '@digitalbazaar/ecdsa-jcs-2019-cryptosuite';
import * as ecdsaSd2023 from '@digitalbazaar/ecdsa-sd-2023-cryptosuite';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import jsigs from 'jsonld-signatures';

// stdout carries the protocol; keep stray logging out of it
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONTEXTS_DIR = path.join(HERE, '..', 'contexts');
const MULTIKEY_CONTEXT_URL = 'https://w3id.org/security/multikey/v1';
const DID_WEB_TIMEOUT_MS = 10000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

// ---------------------------------------------------------------- contexts

function loadContexts() {
  const manifestPath = path.join(CONTEXTS_DIR, 'MANIFEST.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const contexts = new Map();
  for(const {url, file} of manifest.contexts) {
    contexts.set(url, JSON.parse(
      readFileSync(path.join(CONTEXTS_DIR, file), 'utf8')));
  }
  return contexts;
}

const CONTEXTS = loadContexts();

// ------------------------------------------------------------- DID methods

// did:key for Ed25519 (z6Mk) and ECDSA P-256 / P-384 (zDna / z82L) Multikeys;
// the resulting DID documents use the did/v1 and multikey/v1 contexts, both
// of which are shipped in ../contexts
const didKey = didKeyDriver();
didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
didKey.use({multibaseMultikeyHeader: 'zDna', fromMultibase: EcdsaMultikey.from});
didKey.use({multibaseMultikeyHeader: 'z82L', fromMultibase: EcdsaMultikey.from});
const didResolver = new CachedResolver();
didResolver.use(didKey);

/** did:web:host%3Aport:a:b -> http(s)://host:port/a/b/did.json */
function didWebUrl(did) {
  const parts = did.split(':');
  if(parts.length < 3 || parts[0] !== 'did' || parts[1] !== 'web' || !parts[2]) {
    throw new Error(`Invalid did:web DID "${did}".`);
  }
  const host = decodeURIComponent(parts[2]);
  const {hostname} = new URL(`http://${host}`);
  const scheme = LOOPBACK_HOSTS.has(hostname) ? 'http' : 'https';
  const segments = parts.slice(3);
  const pathPart = segments.length ? segments.join('/') : '.well-known';
  return `${scheme}://${host}/${pathPart}/did.json`;
}

async function resolveDidWeb(did) {
  const url = didWebUrl(did);
  let response;
  try {
    response = await fetch(url, {
      headers: {accept: 'application/did+json, application/json'},
      signal: AbortSignal.timeout(DID_WEB_TIMEOUT_MS)
    });
  } catch(e) {
    throw new Error(`Could not fetch DID document for "${did}" from ` +
      `"${url}": ${e.message}`);
  }
  if(!response.ok) {
    throw new Error(`Could not fetch DID document for "${did}" from ` +
      `"${url}": HTTP ${response.status}`);
  }
  const document = await response.json();
  if(document.id !== did) {
    throw new Error(`DID document at "${url}" has id "${document.id}", ` +
      `expected "${did}".`);
  }
  return document;
}

/**
 * Finds the verification method `url` (absolute, or relative "#frag") in a
 * controller document, looking in verificationMethod and every verification
 * relationship where it may be embedded.
 */
function findVerificationMethod(document, url) {
  const base = url.split('#')[0];
  const fragment = url.slice(base.length);
  for(const [key, value] of Object.entries(document)) {
    if(key === '@context' || !Array.isArray(value)) {
      continue;
    }
    for(const vm of value) {
      if(vm && typeof vm === 'object' &&
        (vm.id === url || (vm.id === fragment && base === document.id))) {
        const method = {...vm, id: url};
        if(!method['@context'] && method.type === 'Multikey') {
          method['@context'] = MULTIKEY_CONTEXT_URL;
        }
        return method;
      }
    }
  }
  throw new Error(`Verification method "${url}" not found in "${base}".`);
}

// --------------------------------------------------------- document loader

function makeDocumentLoader(documents = {}) {
  if(documents === null || typeof documents !== 'object') {
    throw new TypeError('"documents" must be an object (url -> document).');
  }
  return async function documentLoader(url) {
    let document;
    const base = url.split('#')[0];
    if(CONTEXTS.has(url)) {
      document = CONTEXTS.get(url);
    } else if(Object.hasOwn(documents, url)) {
      document = structuredClone(documents[url]);
    } else if(base !== url && Object.hasOwn(documents, base)) {
      document = findVerificationMethod(documents[base], url);
    } else if(url.startsWith('did:key:')) {
      // copy: the resolver caches and the verifiers must not share objects
      document = structuredClone(await didResolver.get({url}));
    } else if(url.startsWith('did:web:')) {
      const didDocument = await resolveDidWeb(base);
      document = base === url ?
        didDocument : findVerificationMethod(didDocument, url);
    } else {
      throw new Error(`Document loader refused to load "${url}": it is not ` +
        'a shipped context (contexts/MANIFEST.json), a did:key or did:web ' +
        'URL, or a document supplied with the request.');
    }
    return {contextUrl: null, documentUrl: url, document};
  };
}

// -------------------------------------------------------------------- keys

/** Imports a Multikey JSON (with secretKeyMultibase to sign) + its suite. */
async function importKey(key) {
  if(!key || typeof key !== 'object' ||
    typeof key.publicKeyMultibase !== 'string') {
    throw new TypeError('"key" must be a Multikey object with ' +
      '"publicKeyMultibase".');
  }
  key = {...key};
  const pub = key.publicKeyMultibase;
  if(!key.controller) {
    key.controller = `did:key:${pub}`;
  }
  if(!key.id) {
    key.id = `${key.controller}#${pub}`;
  }
  if(pub.startsWith('z6Mk')) {
    return {keyPair: await Ed25519Multikey.from(key), cryptosuite: eddsaRdfc2022};
  }
  if(pub.startsWith('zDn') || pub.startsWith('z82')) {
    return {keyPair: await EcdsaMultikey.from(key), cryptosuite: ecdsaRdfc2019};
  }
  throw new Error(`Unsupported key type for "${pub}" (expected Ed25519 ` +
    'z6Mk... or ECDSA zDna.../z82L...).');
}

async function generateKey({type, controller}) {
  let keyPair;
  if(type === 'ed25519') {
    keyPair = await Ed25519Multikey.generate();
  } else if(type === 'p256') {
    keyPair = await EcdsaMultikey.generate({curve: 'P-256'});
  } else if(type === 'p384') {
    keyPair = await EcdsaMultikey.generate({curve: 'P-384'});
  } else {
    throw new Error(
      `Unknown key type "${type}" (use "ed25519", "p256" or "p384").`);
  }
  const pub = keyPair.publicKeyMultibase;
  keyPair.controller = controller || `did:key:${pub}`;
  keyPair.id = `${keyPair.controller}#${pub}`;
  // canonicalize: Ed25519 secret key as the 32-byte seed (W3C Multikey form),
  // not the legacy 64-byte seed||public key the library keeps internally
  return keyPair.export({
    publicKey: true, secretKey: true, includeContext: true, canonicalize: true
  });
}

// ----------------------------------------------------------------- signing

// signing suites by name; the key type picks the default (rdfc) one
const SIGNING_CRYPTOSUITES = {
  'eddsa-rdfc-2022': () => eddsaRdfc2022,
  'ecdsa-rdfc-2019': () => ecdsaRdfc2019,
  'eddsa-jcs-2022': () => eddsaJcs2022.createSignCryptosuite(),
  'ecdsa-jcs-2019': () => ecdsaJcs2019.createSignCryptosuite()
};

function signingSuite({keyPair, cryptosuite}, created, suite) {
  if(suite === 'Ed25519Signature2020') {
    return new Ed25519Signature2020({signer: keyPair.signer(), date: created});
  }
  if(suite !== undefined && suite !== null) {
    const make = SIGNING_CRYPTOSUITES[suite];
    if(!make) {
      throw new Error(`Unknown suite "${suite}".`);
    }
    cryptosuite = make();
  }
  return new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite, date: created
  });
}

function verifySuites() {
  return [
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    new DataIntegrityProof({cryptosuite: ecdsaRdfc2019}),
    new DataIntegrityProof({
      cryptosuite: eddsaJcs2022.createVerifyCryptosuite()
    }),
    new DataIntegrityProof({
      cryptosuite: ecdsaJcs2019.createVerifyCryptosuite()
    }),
    new DataIntegrityProof({
      cryptosuite: ecdsaSd2023.createVerifyCryptosuite()
    }),
    new Ed25519Signature2020()
  ];
}

// Status is out of scope for the harness (the Python side checks status
// lists itself); vc 7.x throws if a credential has credentialStatus and no
// checkStatus function is given, so pass one that checks nothing.
async function statusNotChecked() {
  return {verified: true};
}

async function issueCredential(
  imported, credential, created, documentLoader, suite) {
  // vc.issue() only adds `issuanceDate` when the first context is the
  // VCDM 1.1 one; VCDM 2.0 credentials are signed exactly as given
  return vc.issue({
    credential, suite: signingSuite(imported, created, suite), documentLoader
  });
}

function credentialOptions({checkIssuer = true, now} = {}) {
  const options = {suite: verifySuites(), checkStatus: statusNotChecked};
  if(!checkIssuer) {
    // plain assertionMethod check, without vc's "issuer must be the
    // verification method's controller" rule (the W3C cryptosuite vectors
    // sign for an https issuer with a did:key)
    options.purpose = new jsigs.purposes.AssertionProofPurpose();
  }
  if(now !== undefined && now !== null) {
    options.now = now;
  }
  return options;
}

async function verifyCredential(request) {
  const {credential, documents} = request;
  const result = await vc.verifyCredential({
    ...credentialOptions(request),
    credential,
    documentLoader: makeDocumentLoader(documents)
  });
  const verified = result.verified === true;
  return {verified, error: verified ? null : describeError(result.error)};
}

// ------------------------------------------------------------ presentations

async function present({
  presentation, credentials, holderKey, challenge, domain, created, documents
}) {
  if(typeof challenge !== 'string') {
    throw new TypeError('"challenge" must be a string.');
  }
  const imported = await importKey(holderKey);
  if(!presentation) {
    presentation = vc.createPresentation({
      verifiableCredential: credentials, holder: imported.keyPair.controller
    });
  }
  return vc.signPresentation({
    presentation,
    suite: signingSuite(imported, created),
    challenge,
    domain: domain ?? undefined,
    documentLoader: makeDocumentLoader(documents)
  });
}

async function verifyPresentation(request) {
  const {presentation, challenge, domain, documents} = request;
  let result;
  try {
    // vc.verify() returns (not awaits) its inner promise, so malformed
    // presentations reject instead of yielding {verified: false}
    result = await vc.verify({
      ...credentialOptions(request),
      presentation,
      challenge,
      domain: domain ?? undefined,
      documentLoader: makeDocumentLoader(documents)
    });
  } catch(e) {
    return {verified: false, error: describeError(e)};
  }
  if(result.verified === true) {
    return {verified: true, error: null};
  }
  const problems = [];
  if(result.presentationResult && !result.presentationResult.verified) {
    problems.push(
      `presentation: ${describeError(result.presentationResult.error)}`);
  }
  for(const [i, r] of (result.credentialResults || []).entries()) {
    if(!r.verified) {
      problems.push(`credential ${i}: ${describeError(r.error)}`);
    }
  }
  if(problems.length === 0) {
    problems.push(describeError(result.error));
  }
  return {verified: false, error: problems.join(' | ')};
}

// ---------------------------------------------------------------- canonize

async function canonize({document, safe = true, documents}) {
  // the cryptosuite's own canonize: jsonld.toRDF + rdf-canonize RDFC-1.0 with
  // base null, safe mode and rdfDirection i18n-datatype -- exactly what is
  // hashed when signing
  return eddsaRdfc2022.canonize(document, {
    documentLoader: makeDocumentLoader(documents), safe
  });
}

// ------------------------------------------------- selective disclosure

async function sdSign({credential, key, created, mandatoryPointers = [],
  documents}) {
  const {keyPair} = await importKey(key);
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), date: created,
    cryptosuite: ecdsaSd2023.createSignCryptosuite({mandatoryPointers})
  });
  return vc.issue({
    credential, suite, documentLoader: makeDocumentLoader(documents)
  });
}

async function sdDerive({credential, selectivePointers = [], documents}) {
  const suite = new DataIntegrityProof({
    cryptosuite: ecdsaSd2023.createDiscloseCryptosuite({selectivePointers})
  });
  return vc.derive({
    verifiableCredential: credential, suite,
    documentLoader: makeDocumentLoader(documents)
  });
}

// ------------------------------------------------------------------- bench

async function bench({
  kind, credentials, key, created, documents, checkIssuer,
  mandatoryPointers = [], selectivePointers = []
}) {
  if(!Array.isArray(credentials)) {
    throw new TypeError('"credentials" must be an array.');
  }
  const documentLoader = makeDocumentLoader(documents);
  let start;
  if(kind === 'sign') {
    const imported = await importKey(key);
    start = process.hrtime.bigint();
    for(const credential of credentials) {
      await issueCredential(imported, credential, created, documentLoader);
    }
  } else if(kind === 'verify') {
    start = process.hrtime.bigint();
    for(const [i, credential] of credentials.entries()) {
      const result = await vc.verifyCredential({
        ...credentialOptions({checkIssuer}), credential, documentLoader
      });
      if(!result.verified) {
        throw new Error(`bench verify: credential ${i} did not verify: ` +
          describeError(result.error));
      }
    }
  } else if(kind === 'sdSign') {
    const {keyPair} = await importKey(key);
    const suite = new DataIntegrityProof({
      signer: keyPair.signer(), date: created,
      cryptosuite: ecdsaSd2023.createSignCryptosuite({mandatoryPointers})
    });
    start = process.hrtime.bigint();
    for(const credential of credentials) {
      await vc.issue({credential, suite, documentLoader});
    }
  } else if(kind === 'sdDerive') {
    const suite = new DataIntegrityProof({
      cryptosuite: ecdsaSd2023.createDiscloseCryptosuite({selectivePointers})
    });
    start = process.hrtime.bigint();
    for(const credential of credentials) {
      await vc.derive({verifiableCredential: credential, suite, documentLoader});
    }
  } else {
    throw new Error(`Unknown bench kind "${kind}" (use "sign", "verify", ` +
      '"sdSign" or "sdDerive").');
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {count: credentials.length, seconds};
}

// -------------------------------------------------------------------- info

function info() {
  const names = [
    '@digitalbazaar/vc', '@digitalbazaar/data-integrity',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite',
    '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite',
    '@digitalbazaar/eddsa-jcs-2022-cryptosuite',
    '@digitalbazaar/ecdsa-jcs-2019-cryptosuite',
    '@digitalbazaar/ecdsa-sd-2023-cryptosuite',
    '@digitalbazaar/ed25519-signature-2020',
    '@digitalbazaar/ed25519-multikey', '@digitalbazaar/ecdsa-multikey',
    '@digitalbazaar/did-method-key', 'jsonld', 'rdf-canonize',
    'jsonld-signatures'
  ];
  const packages = {};
  for(const name of names) {
    const file = path.join(HERE, 'node_modules', name, 'package.json');
    packages[name] = JSON.parse(readFileSync(file, 'utf8')).version;
  }
  return {node: process.version, packages, contexts: [...CONTEXTS.keys()]};
}

// ---------------------------------------------------------------- dispatch

const OPS = {
  info,
  generateKey,
  sign: ({credential, key, created, documents, suite}) => importKey(key).then(
    imported => issueCredential(
      imported, credential, created, makeDocumentLoader(documents), suite)),
  verify: verifyCredential,
  present,
  verifyPresentation,
  canonize,
  bench,
  sdSign,
  sdDerive
};

serveJsonLines(OPS);
