#!/usr/bin/env node
/**
 * microcred OpenID4VC interop harness: other vendors' wallet libraries, from
 * the npm registry, talking to microcred's running issuer and verifier.
 *
 *   - OpenWallet Foundation: @openid4vc/openid4vci, @openid4vc/openid4vp
 *     (with @openid4vc/oauth2), the libraries behind Credo-based wallets;
 *   - Sphereon: @sphereon/oid4vci-client.
 *
 * One-shot: `node interop/oid4vc.mjs` reads ONE JSON request on stdin
 * ({"op": …, …}) and writes ONE JSON line on stdout:
 *   {"ok": true, "result": …}   or   {"ok": false, "error": "…", "oauth": {…}}
 * (`oauth` is the server's OAuth error body when there was one). Nothing else
 * is written to stdout. Used by tests/interop/test_oid4vc_clients.py.
 *
 * Operations:
 *   collect          OpenWallet client: offer URI -> credential (pre-authorised
 *                    code, optional txCode, key proof JWT with `kid` = did:key
 *                    or with `jwk`; alg EdDSA or ES256)
 *   sphereonCollect  the same with Sphereon's client (kid = did:key)
 *   resolveRequest   OpenWallet openid4vp: an openid4vp:// URI -> the verified
 *                    authorization request (a signed request object is checked
 *                    against the verifier's did:web document)
 *   submitResponse   OpenWallet openid4vp: post a vp_token to the response_uri
 *
 * Keys are generated here with node:crypto; did:key is computed locally and
 * did:web is fetched over https, or plain http for loopback hosts (tests).
 * http:// URLs are allowed (setGlobalConfig) because the tests serve microcred
 * on 127.0.0.1; everything else about the protocols is the libraries' own.
 */
import crypto from 'node:crypto';
import {createRequire} from 'node:module';

import {
  clientAuthenticationAnonymous, HashAlgorithm, setGlobalConfig
} from '@openid4vc/oauth2';
import {Openid4vciClient} from '@openid4vc/openid4vci';
import {Openid4vpClient} from '@openid4vc/openid4vp';

import {
  b64url, base58btc, fromB64url, jwtVerifier, LOOPBACK_HOSTS, unbase58btc
} from './bytes.mjs';
import {answerOneRequest, consoleToStderr} from './jsonlines.mjs';
import {submitVpToken} from './vp_response.mjs';

consoleToStderr(); // stdout carries the one answer

setGlobalConfig({allowInsecureUrls: true});

// ---------------------------------------------------------------------- keys

/** A fresh holder key: {alg, jwk (public), privateKey, didKey}. */
function generateHolderKey(alg) {
  const {publicKey, privateKey} = alg === 'ES256' ?
    crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'}) :
    crypto.generateKeyPairSync('ed25519');
  const jwk = publicKey.export({format: 'jwk'});
  let multikey;
  if(alg === 'ES256') {
    const y = fromB64url(jwk.y);
    const prefix = (y[y.length - 1] & 1) ? 0x03 : 0x02;
    multikey = Buffer.concat([
      Buffer.from([0x80, 0x24, prefix]), fromB64url(jwk.x)]);
  } else {
    multikey = Buffer.concat([Buffer.from([0xed, 0x01]), fromB64url(jwk.x)]);
  }
  const fingerprint = 'z' + base58btc(multikey);
  const did = `did:key:${fingerprint}`;
  return {alg, jwk, privateKey, did, kid: `${did}#${fingerprint}`};
}

function signBytes(alg, privateKey, data) {
  if(alg === 'ES256') {
    return crypto.sign('sha256', data, {key: privateKey, dsaEncoding: 'ieee-p1363'});
  }
  return crypto.sign(null, data, privateKey);
}

function compactJwt(header, payload, alg, privateKey) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(signBytes(alg, privateKey, Buffer.from(input)))}`;
}

/** The public JWK of a verification method (Multikey or JsonWebKey). */
function methodJwk(method) {
  if(method.publicKeyJwk) {
    return method.publicKeyJwk;
  }
  const bytes = unbase58btc(String(method.publicKeyMultibase || '').slice(1));
  if(bytes[0] === 0xed && bytes[1] === 0x01) {
    return {kty: 'OKP', crv: 'Ed25519', x: b64url(bytes.subarray(2))};
  }
  if(bytes[0] === 0x80 && bytes[1] === 0x24) {
    const key = crypto.createPublicKey({
      key: Buffer.concat([
        // SPKI header for an EC P-256 compressed point
        Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
        bytes.subarray(2)]),
      format: 'der', type: 'spki'
    });
    return key.export({format: 'jwk'});
  }
  throw new Error('unsupported verification method key');
}

// ---------------------------------------------------------------------- DIDs

function didWebUrl(did) {
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts.shift();
  const hostname = host.replace(/:\d+$/, '');
  const scheme = LOOPBACK_HOSTS.has(hostname) ? 'http' : 'https';
  const path = parts.length ? parts.join('/') : '.well-known';
  return `${scheme}://${host}/${path}/did.json`;
}

async function resolveDidUrl(didUrl) {
  const [did] = didUrl.split('#');
  if(!did.startsWith('did:web:')) {
    throw new Error(`this harness resolves did:web only, not ${did}`);
  }
  const response = await fetch(didWebUrl(did), {
    headers: {accept: 'application/did+json, application/json'},
    redirect: 'error', signal: AbortSignal.timeout(10000)
  });
  if(!response.ok) {
    throw new Error(`${did} did not resolve: HTTP ${response.status}`);
  }
  const document = await response.json();
  if(document.id !== did) {
    throw new Error(`the DID document is not the document of ${did}`);
  }
  const absolute = ref => ref.startsWith('#') ? did + ref : ref;
  const method = (document.verificationMethod || []).find(
    vm => absolute(vm.id) === didUrl);
  if(!method) {
    throw new Error(`${didUrl} is not in its DID document`);
  }
  const authorised = (document.authentication || []).concat(
    document.assertionMethod || []).some(
    ref => absolute(typeof ref === 'string' ? ref : ref.id) === didUrl);
  if(!authorised) {
    throw new Error(`${didUrl} is not authorised by its controller`);
  }
  return methodJwk(method);
}

// ----------------------------------------------------------------- callbacks

const callbacks = {
  fetch: (url, init) => fetch(url, init),
  generateRandom: bytes => crypto.randomBytes(bytes),
  hash: (data, alg) => {
    const name = {[HashAlgorithm.Sha256]: 'sha256', [HashAlgorithm.Sha384]: 'sha384',
      [HashAlgorithm.Sha512]: 'sha512'}[alg] || 'sha256';
    return crypto.createHash(name).update(data).digest();
  },
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, {header, payload}) => {
    const key = signer.holderKey;
    if(!key) {
      throw new Error('this harness only signs with its own holder keys');
    }
    // the library's header carries alg, typ and kid or jwk; holderKey is ours only
    return {jwt: compactJwt(header, payload, key.alg, key.privateKey), signerJwk: key.jwk};
  },
  verifyJwt: jwtVerifier(resolveDidUrl)
};

// ------------------------------------------------------------------- collect

async function collect({offer, txCode, binding = 'did', alg = 'EdDSA'}) {
  const client = new Openid4vciClient({callbacks});
  const credentialOffer = await client.resolveCredentialOffer(offer);
  const issuerMetadata = await client.resolveIssuerMetadata(
    credentialOffer.credential_issuer);
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode: txCode ?? undefined
  });
  const configurationId = credentialOffer.credential_configuration_ids[0];
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const holderKey = generateHolderKey(alg);
  const signer = binding === 'jwk' ?
    {method: 'jwk', alg, publicJwk: holderKey.jwk, holderKey} :
    {method: 'did', alg, didUrl: holderKey.kid, holderKey};
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, signer, nonce,
    issuedAt: new Date()
  });
  const {credentialResponse} = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configurationId, proofs: {jwt: [jwt]}
  });
  const [{credential}] = credentialResponse.credentials;
  return {
    credential,
    holder: binding === 'jwk' ? null : holderKey.did,
    jwk: holderKey.jwk,
    proofHeader: JSON.parse(fromB64url(jwt.split('.')[0]).toString()),
    issuerVersion: issuerMetadata.originalDraftVersion,
    offer: credentialOffer
  };
}

// ------------------------------------------------------------ Sphereon client

async function sphereonCollect({offer, txCode, alg = 'EdDSA'}) {
  const require = createRequire(import.meta.url);
  const {OpenID4VCIClient} = require('@sphereon/oid4vci-client');
  const client = await OpenID4VCIClient.fromURI({uri: offer, retrieveServerMetadata: true});
  await client.acquireAccessToken(txCode ? {pin: txCode} : {});
  const holderKey = generateHolderKey(alg);
  const signCallback = async (args, kid) => {
    const header = {...args.header, alg, kid: kid || holderKey.kid};
    delete header.jwk;
    return compactJwt(header, args.payload, alg, holderKey.privateKey);
  };
  const configurationId = client.credentialOffer?.credential_offer
    ?.credential_configuration_ids?.[0];
  // ldp_vc requests carry the credential_definition the issuer advertises
  const definition = client.endpointMetadata?.credentialIssuerMetadata
    ?.credential_configurations_supported?.[configurationId]?.credential_definition ?? {};
  const response = await client.acquireCredentials({
    credentialTypes: definition.type ?? ['VerifiableCredential', 'OpenBadgeCredential'],
    context: definition['@context'],
    format: 'ldp_vc',
    proofCallbacks: {signCallback},
    kid: holderKey.kid,
    alg
  });
  return {credential: response.credential, holder: holderKey.did, raw: response};
}

// ------------------------------------------------------------------ OpenID4VP

async function resolveRequest({uri}) {
  const client = new Openid4vpClient({callbacks});
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: uri});
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params
  });
  return {
    type: parsed.type,
    payload: resolved.authorizationRequestPayload,
    client: {
      prefix: resolved.client.prefix,
      identifier: resolved.client.identifier,
      effective: resolved.client.effective,
      didUrl: resolved.client.didUrl ?? null
    },
    signed: Boolean(resolved.jar),
    signer: resolved.jar ? {method: resolved.jar.signer.method,
      didUrl: resolved.jar.signer.didUrl ?? null} : null,
    jarHeader: resolved.jar ? resolved.jar.jwt.header : null,
    dcql: resolved.dcql?.query ?? null,
    version: resolved.version
  };
}

async function submitResponse({payload, vpToken, state}) {
  return submitVpToken(new Openid4vpClient({callbacks}), payload, vpToken, state);
}

// ---------------------------------------------------------------------- main

const OPERATIONS = {collect, sphereonCollect, resolveRequest, submitResponse};

function describe(error) {
  const oauth = error?.errorResponse ?? error?.response?.errorResponse ??
    error?.credentialErrorResponseResult?.data ?? null;
  const message = error?.message || String(error);
  const extra = error?.responseText ?? error?.errorDescription ?? '';
  return {ok: false, error: extra ? `${message}: ${extra}` : message, oauth};
}

answerOneRequest(OPERATIONS, describe);
