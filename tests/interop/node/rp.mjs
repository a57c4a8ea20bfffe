// A relying party built on openid-client (and its JOSE library, jose), for gatepass's
// interop tests. The Python test drives the browser; this script is the application:
//
//   node rp.mjs start   < {issuer, client_id, client_secret?, redirect_uri}
//     -> {url, state, nonce, code_verifier}        the authorization request to open
//   node rp.mjs finish  < {... as above, callback, state, nonce, code_verifier,
//                          access_token_alg, audience}
//     -> {token, id_token_claims, access_token_header, access_token_claims, userinfo}
//
// Input is JSON on stdin (a client secret never goes into argv); output is JSON on
// stdout. Any failed check throws, and the process exits 1 with the error on stderr.

import * as client from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";

const SCOPE = "openid profile email";

async function readInput() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

async function configure(input) {
  // confidential: client_secret_basic; public: none (the registered methods).
  const auth = input.client_secret
    ? client.ClientSecretBasic(input.client_secret)
    : client.None();
  // The issuer is plain http on loopback in the tests; openid-client refuses http
  // unless told. Discovery checks that the metadata's issuer is this very URL.
  return client.discovery(new URL(input.issuer), input.client_id, undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

async function start(input) {
  const config = await configure(input);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: input.redirect_uri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return { url: url.href, state, nonce, code_verifier: codeVerifier };
}

async function finish(input) {
  const config = await configure(input);
  // Checks state, iss (RFC 9207, advertised in discovery), the code exchange with the
  // verifier, and the id token: signature against jwks_uri (non-repudiation checks),
  // iss, aud, exp, iat, nonce.
  const token = await client.authorizationCodeGrant(config, new URL(input.callback), {
    pkceCodeVerifier: input.code_verifier,
    expectedState: input.state,
    expectedNonce: input.nonce,
    idTokenExpected: true,
  });
  const idClaims = token.claims();
  const metadata = config.serverMetadata();
  // RFC 9068 access token, verified by jose with the algorithm pinned.
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  const access = await jwtVerify(token.access_token, jwks, {
    issuer: metadata.issuer,
    audience: input.audience,
    typ: "at+jwt",
    algorithms: [input.access_token_alg],
    requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"],
  });
  // UserInfo, with openid-client's check that its sub is the id token's (Core §5.3.2).
  const userinfo = await client.fetchUserInfo(config, token.access_token, idClaims.sub);
  return {
    token: {
      token_type: token.token_type,
      expires_in: token.expires_in,
      scope: token.scope,
    },
    id_token_claims: idClaims,
    access_token_header: access.protectedHeader,
    access_token_claims: access.payload,
    userinfo,
  };
}

const commands = { start, finish };
const command = commands[process.argv[2]];
if (!command) {
  process.stderr.write(`usage: node rp.mjs ${Object.keys(commands).join("|")}\n`);
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await command(await readInput())) + "\n");
} catch (error) {
  process.stderr.write(`${error?.name}: ${error?.message}\n${error?.cause ? JSON.stringify(error.cause) : ""}\n`);
  process.exit(1);
}
