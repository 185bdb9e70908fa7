/**
 * Answering an OpenID4VP request as a wallet, shared by the OpenID4VC harnesses
 * (oid4vc.mjs, oid4vc_sdjwt.mjs): the @openid4vc/openid4vp client builds the
 * authorization response and posts it (direct_post) to the verifier's response_uri.
 */

/**
 * Post `vpToken` (with `state` when the request had one) as the answer to the request
 * `payload`; returns the verifier's HTTP status and body (parsed when it is JSON).
 */
export async function submitVpToken(client, payload, vpToken, state) {
  const {authorizationResponsePayload} = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: {vp_token: vpToken, ...(state ? {state} : {})}
  });
  const {response} = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload, authorizationResponsePayload
  });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return {status: response.status, body};
}
