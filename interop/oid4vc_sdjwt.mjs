#!/usr/bin/env node
/**
 * microcred SD-JWT VC protocol harness: a wallet microcred did not write, assembled from
 * the OpenWallet Foundation's npm libraries, against microcred's running issuer and
 * verifier (issue 19). The ldp_vc counterpart is interop/oid4vc.mjs.
 *
 *   - OpenID4VCI: @openid4vc/openid4vci (pre-authorised code, tx_code, nonce endpoint,
 *     JWT key proof with a bare `jwk`: the key the SD-JWT VC's cnf binds);
 *   - the credential: @sd-jwt/sd-jwt-vc + @sd-jwt/crypto-nodejs (the wallet verifies it
 *     against the issuer's /.well-known/jwt-vc-issuer key before keeping it, and presents
 *     it with a KB-JWT);
 *   - OpenID4VP: @openid4vc/openid4vp (parses the request, checks a signed request object
 *     against the verifier's did:web, builds and posts the direct_post answer).
 *
 * One-shot: ONE JSON request on stdin ({"op": …}), ONE JSON line on stdout:
 *   {"ok": true, "result": …} or {"ok": false, "error": "…", "oauth": {…}}.
 *
 * Operations:
 *   collect  {offer, txCode?, configurationId?} -> {credential, holderJwk, configurationId,
 *            issuerKeyFrom, payload}
 *   present  {uri, credential, holderJwk, disclose: [claim paths]} -> {status, body, aud,
 *            nonce, dcql, client}
 */
import crypto from 'node:crypto';

import {clientAuthenticationAnonymous, HashAlgorithm, setGlobalConfig} from '@openid4vc/oauth2';
import {Openid4vciClient} from '@openid4vc/openid4vci';
import {Openid4vpClient} from '@openid4vc/openid4vp';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {ES256, digest, generateSalt} from '@sd-jwt/crypto-nodejs';

import {
  b64url, fromB64url, jwtVerifier, LOOPBACK_HOSTS, unbase58btc, verifyBytes
} from './bytes.mjs';
import {answerOneRequest, consoleToStderr} from './jsonlines.mjs';
import {submitVpToken} from './vp_response.mjs';

consoleToStderr(); // stdout carries the one answer

setGlobalConfig({allowInsecureUrls: true});

/** did:web -> the JWK of one of its verification methods (Multikey or JWK). */
async function resolveDidUrl(didUrl) {
  const [did] = didUrl.split('#');
  if(!did.startsWith('did:web:')) {
    throw new Error(`only did:web is resolved here, not ${did}`);
  }
  const parts = did.slice(8).split(':').map(decodeURIComponent);
  const host = parts.shift();
  const scheme = LOOPBACK_HOSTS.has(host.replace(/:\d+$/, '')) ? 'http' : 'https';
  const url = `${scheme}://${host}/${parts.length ? parts.join('/') : '.well-known'}/did.json`;
  const document = await (await fetch(url)).json();
  const absolute = ref => ref.startsWith('#') ? did + ref : ref;
  const method = (document.verificationMethod || []).find(vm => absolute(vm.id) === didUrl);
  if(!method) {
    throw new Error(`${didUrl} is not in its DID document`);
  }
  if(method.publicKeyJwk) {
    return method.publicKeyJwk;
  }
  const bytes = unbase58btc(String(method.publicKeyMultibase).slice(1));
  if(bytes[0] === 0xed && bytes[1] === 0x01) {
    return {kty: 'OKP', crv: 'Ed25519', x: b64url(bytes.subarray(2))};
  }
  const spki = Buffer.concat([
    Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
    bytes.subarray(2)]);
  return crypto.createPublicKey({key: spki, format: 'der', type: 'spki'}).export({format: 'jwk'});
}

function holderKeyPair() {
  const {publicKey, privateKey} = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'});
  return {jwk: publicKey.export({format: 'jwk'}), privateJwk: privateKey.export({format: 'jwk'}),
    privateKey};
}

const callbacks = {
  fetch: (url, init) => fetch(url, init),
  generateRandom: bytes => crypto.randomBytes(bytes),
  hash: (data, alg) => crypto.createHash(
    {[HashAlgorithm.Sha384]: 'sha384', [HashAlgorithm.Sha512]: 'sha512'}[alg] || 'sha256'
  ).update(data).digest(),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, {header, payload}) => {
    const key = signer.holderKey;
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = crypto.sign('sha256', Buffer.from(input),
      {key: key.privateKey, dsaEncoding: 'ieee-p1363'});
    return {jwt: `${input}.${b64url(signature)}`, signerJwk: key.jwk};
  },
  verifyJwt: jwtVerifier(resolveDidUrl)
};

/** The issuer key of an SD-JWT VC from the issuer's JWT VC Issuer Metadata. */
async function issuerVerifier(iss, kid) {
  const url = new URL(iss);
  const metadata = await (await fetch(
    `${url.origin}/.well-known/jwt-vc-issuer${url.pathname.replace(/\/$/, '')}`)).json();
  if(metadata.issuer !== iss) {
    throw new Error('the jwt-vc-issuer metadata names another issuer');
  }
  const jwk = metadata.jwks.keys.find(k => !kid || k.kid === kid);
  if(!jwk) {
    throw new Error(`no issuer key ${kid}`);
  }
  return async (data, sig) => verifyBytes(jwk.kty === 'OKP' ? 'EdDSA' : 'ES256', jwk,
    Buffer.from(data), fromB64url(sig));
}

async function collect({offer, txCode, configurationId}) {
  const client = new Openid4vciClient({callbacks});
  const credentialOffer = await client.resolveCredentialOffer(offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const supported = issuerMetadata.credentialIssuer.credential_configurations_supported;
  // a wallet that speaks SD-JWT VC picks the dc+sd-jwt configuration of the offer
  const chosen = configurationId ?? credentialOffer.credential_configuration_ids.find(
    id => supported[id]?.format === 'dc+sd-jwt');
  if(!chosen) {
    throw new Error('the offer has no dc+sd-jwt configuration');
  }
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode: txCode ?? undefined
  });
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const holderKey = holderKeyPair();
  const signer = {method: 'jwk', alg: 'ES256', publicJwk: holderKey.jwk, holderKey};
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: chosen, signer, nonce, issuedAt: new Date()
  });
  const {credentialResponse} = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: chosen, proofs: {jwt: [jwt]}
  });
  const [{credential}] = credentialResponse.credentials;
  // the wallet checks what it received before keeping it
  const header = JSON.parse(fromB64url(credential.split('.')[0]));
  const payload = JSON.parse(fromB64url(credential.split('~')[0].split('.')[1]));
  const sdjwt = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', verifier: await issuerVerifier(payload.iss, header.kid)
  });
  const verified = await sdjwt.verify(credential);
  return {credential, holderJwk: holderKey.privateJwk, configurationId: chosen,
    payload: verified.payload, vct: supported[chosen].vct};
}

async function present({uri, credential, holderJwk, disclose = []}) {
  const client = new Openid4vpClient({callbacks});
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: uri});
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params
  });
  const payload = resolved.authorizationRequestPayload;
  const query = resolved.dcql.query.credentials.find(c => c.format === 'dc+sd-jwt');
  if(!query) {
    throw new Error('the request asks for no dc+sd-jwt credential');
  }
  // the learner's choice: only the listed claims (dotted paths) are disclosed
  const frame = {};
  for(const path of disclose) {
    let node = frame;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      node[part] = i === parts.length - 1 ? true : (node[part] ?? {});
      node = node[part];
    });
  }
  const sdjwt = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(holderJwk), kbSignAlg: 'ES256'
  });
  const aud = payload.client_id;
  const presentation = await sdjwt.present(credential, frame, {
    kb: {payload: {iat: Math.floor(Date.now() / 1000), aud, nonce: payload.nonce}}
  });
  const {status, body} = await submitVpToken(
    client, payload, {[query.id]: [presentation]}, payload.state);
  return {status, body, aud, nonce: payload.nonce, dcql: resolved.dcql.query,
    client: {prefix: resolved.client.prefix, identifier: resolved.client.identifier},
    signed: Boolean(resolved.jar)};
}

const OPERATIONS = {collect, present};

function describe(error) {
  const oauth = error?.errorResponse ?? error?.response?.errorResponse ?? null;
  return {ok: false, error: error?.message || String(error), oauth};
}

answerOneRequest(OPERATIONS, describe);
