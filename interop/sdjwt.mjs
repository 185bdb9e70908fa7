#!/usr/bin/env node
/**
 * microcred SD-JWT VC interop harness: the OpenWallet Foundation's SD-JWT
 * libraries from the npm registry (@sd-jwt/sd-jwt-vc, @sd-jwt/core,
 * @sd-jwt/crypto-nodejs, @sd-jwt/jwt-status-list 0.19.0) on one side,
 * microcred's credentials/sdjwt on the other.
 *
 * One-shot: reads ONE JSON request on stdin ({"op": …, …}) and writes ONE JSON
 * line on stdout: {"ok": true, "result": …} or {"ok": false, "error": "…"}.
 * Used by tests/interop/test_sdjwt_interop.py.
 *
 * Operations:
 *   keys        a fresh key pair {alg: "ES256"|"EdDSA"} -> {privateJwk, publicJwk}
 *   issue       their issuer: {claims, frame, issuerJwk (private), kid?, holderJwk?}
 *               -> {sdjwt}
 *   present     their holder: {sdjwt, frame, holderJwk (private)?, aud, nonce, iat?}
 *               -> {presentation}
 *   verify      their verifier: {sdjwt, issuerJwk (public), nonce?, statusListJwt?,
 *               typeMetadata?} -> {payload, kb, typeMetadata} (the library checks the
 *               signature, disclosures, KB-JWT signature/nonce/sd_hash, status, vct doc)
 *   statusList  their status list: {statuses: [..], bits, uri, issuerJwk (private)}
 *               -> {jwt}
 *   readStatus  their reading of a status list JWT: {jwt, indexes: [..]} -> {statuses}
 *   bench       {what: "issue"|"verify", items, …} -> {n, seconds}, timed inside Node
 */
import crypto from 'node:crypto';

import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {Jwt} from '@sd-jwt/core';
import {ES256, digest, generateSalt} from '@sd-jwt/crypto-nodejs';
import {
  StatusList, createHeaderAndPayload, getListFromStatusListJWT
} from '@sd-jwt/jwt-status-list';

import {answerOneRequest, consoleToStderr} from './jsonlines.mjs';

consoleToStderr(); // stdout carries the one answer

function algOf(jwk) {
  return jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
}

/** A signer for the JWK: @sd-jwt/crypto-nodejs for ES256, node:crypto for EdDSA. */
async function signerFor(jwk) {
  if(algOf(jwk) === 'ES256') {
    return ES256.getSigner(jwk);
  }
  const key = crypto.createPrivateKey({key: jwk, format: 'jwk'});
  return async data => crypto.sign(null, Buffer.from(data), key).toString('base64url');
}

async function verifierFor(jwk) {
  const pub = {...jwk};
  delete pub.d;
  if(algOf(pub) === 'ES256') {
    return ES256.getVerifier(pub);
  }
  const key = crypto.createPublicKey({key: pub, format: 'jwk'});
  return async (data, sig) =>
    crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
}

/** The KB-JWT verifier: the holder key is the credential's cnf.jwk. */
async function kbVerifier(data, sig, payload) {
  const jwk = payload?.cnf?.jwk;
  if(!jwk) {
    throw new Error('no cnf.jwk in the credential');
  }
  return (await verifierFor(jwk))(data, sig);
}

async function instance({issuerJwk, holderJwk, statusListJwt, typeMetadata} = {}) {
  const config = {
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbVerifier,
  };
  if(issuerJwk) {
    config.signAlg = algOf(issuerJwk);
    if(issuerJwk.d) {
      config.signer = await signerFor(issuerJwk);
    }
    config.verifier = await verifierFor(issuerJwk);
  }
  if(holderJwk) {
    config.kbSignAlg = algOf(holderJwk);
    config.kbSigner = await signerFor(holderJwk);
  }
  if(statusListJwt) {
    config.statusListFetcher = async () => statusListJwt;
  }
  if(typeMetadata) {
    config.loadTypeMetadataFormat = true;
    config.vctFetcher = async () => typeMetadata;
  }
  return new SDJwtVcInstance(config);
}

const ops = {
  async keys({alg = 'ES256'}) {
    if(alg === 'ES256') {
      const {publicKey, privateKey} = await ES256.generateKeyPair();
      return {publicJwk: publicKey, privateJwk: privateKey};
    }
    const {publicKey, privateKey} = crypto.generateKeyPairSync('ed25519');
    return {
      publicJwk: publicKey.export({format: 'jwk'}),
      privateJwk: privateKey.export({format: 'jwk'}),
    };
  },

  async issue({claims, frame, issuerJwk, kid}) {
    const sdjwt = await instance({issuerJwk});
    const header = kid ? {kid} : {};
    return {sdjwt: await sdjwt.issue(claims, frame, {header})};
  },

  async present({sdjwt: encoded, frame, holderJwk, aud, nonce, iat}) {
    const sdjwt = await instance({holderJwk});
    const options = holderJwk ? {
      kb: {payload: {iat: iat ?? Math.floor(Date.now() / 1000), aud, nonce}},
    } : undefined;
    return {presentation: await sdjwt.present(encoded, frame, options)};
  },

  async verify({sdjwt: encoded, issuerJwk, nonce, statusListJwt, typeMetadata}) {
    const sdjwt = await instance({issuerJwk, statusListJwt, typeMetadata});
    const options = nonce ? {keyBindingNonce: nonce} : {};
    const result = await sdjwt.verify(encoded, options);
    return {
      payload: result.payload,
      kb: result.kb ?? null,
      typeMetadata: result.typeMetadata?.mergedTypeMetadata ?? null,
    };
  },

  async statusList({statuses, bits = 2, uri, issuerJwk, iat}) {
    const list = new StatusList(statuses, bits);
    const {header, payload} = createHeaderAndPayload(
      list,
      {sub: uri, iat: iat ?? Math.floor(Date.now() / 1000)},
      {alg: algOf(issuerJwk)});
    const jwt = new Jwt({header, payload});
    return {jwt: await jwt.sign(await signerFor(issuerJwk))};
  },

  /** Timed inside Node (bench/sdjwt.py): issue the claims, or verify the presentations. */
  async bench({what, items, frame, issuerJwk, nonce, statusListJwt}) {
    const sdjwt = await instance({issuerJwk, statusListJwt});
    const started = process.hrtime.bigint();
    for(const item of items) {
      if(what === 'issue') {
        await sdjwt.issue(item, frame, {header: {kid: 'key-1'}});
      } else {
        await sdjwt.verify(item, {keyBindingNonce: nonce});
      }
    }
    return {n: items.length, seconds: Number(process.hrtime.bigint() - started) / 1e9};
  },

  async readStatus({jwt, indexes}) {
    const list = getListFromStatusListJWT(jwt);
    return {statuses: indexes.map(i => list.getStatus(i))};
  },
};

answerOneRequest(ops);
