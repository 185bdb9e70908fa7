/**
 * Byte encodings and JWS signature checks the OpenID4VC harnesses (oid4vc.mjs,
 * oid4vc_sdjwt.mjs) both need for did:key, did:web Multikeys and key proofs: base64url,
 * base58btc, and verifying an ES256 / EdDSA signature against a public JWK with
 * node:crypto. Kept here so the two wallets do not each carry their own copy.
 */
import crypto from 'node:crypto';

/** Hosts a did:web is fetched from over plain http (the tests serve microcred there). */
export const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export const b64url = data => Buffer.from(data).toString('base64url');
export const fromB64url = text => Buffer.from(text, 'base64url');

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58btc(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let out = '';
  while(n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for(const byte of bytes) {
    if(byte !== 0) {
      break;
    }
    out = '1' + out;
  }
  return out;
}

export function unbase58btc(text) {
  let n = 0n;
  for(const ch of text) {
    const value = B58.indexOf(ch);
    if(value < 0) {
      throw new Error(`not base58btc: ${text}`);
    }
    n = n * 58n + BigInt(value);
  }
  let hex = n.toString(16);
  if(hex.length % 2) {
    hex = '0' + hex;
  }
  const zeros = text.match(/^1*/)[0].length;
  return Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex, 'hex')]);
}

/** Whether `signature` over `data` verifies with the public `jwk` under JWS `alg`. */
export function verifyBytes(alg, jwk, data, signature) {
  const key = crypto.createPublicKey({key: jwk, format: 'jwk'});
  if(alg === 'ES256') {
    return crypto.verify('sha256', data, {key, dsaEncoding: 'ieee-p1363'}, signature);
  }
  if(alg === 'EdDSA' || alg === 'Ed25519') {
    return crypto.verify(null, data, key, signature);
  }
  return false;
}

/**
 * The `verifyJwt` callback of the @openid4vc libraries: the signer's key is a did:web
 * verification method (found with `resolveDidUrl`, each harness's own resolver) or a bare
 * JWK; any other signer is not verified.
 */
export function jwtVerifier(resolveDidUrl) {
  return async (signer, {compact, header}) => {
    let jwk;
    if(signer.method === 'did') {
      jwk = await resolveDidUrl(signer.didUrl);
    } else if(signer.method === 'jwk') {
      jwk = signer.publicJwk;
    } else {
      return {verified: false};
    }
    const [h, p, s] = compact.split('.');
    const verified = verifyBytes(header.alg, jwk, Buffer.from(`${h}.${p}`), fromB64url(s));
    return verified ? {verified: true, signerJwk: jwk} : {verified: false};
  };
}
