// oidc-provider (npm) as a real upstream OpenID provider for gatepass's federation tests.
//
// Usage: node provider.mjs PORT < config.json
//   config = {
//     "clients":  [{"client_id", "client_secret", "redirect_uris", "token_endpoint_auth_method"}],
//     "accounts": {"<sub>": {"email", "email_verified", "name"}},
//     "jwks":     {"keys": [<private JWK>, ...]}   // optional; a fresh RSA key (RS256) otherwise
//   }
// Prints one JSON line {"ready": true, "issuer": ...} to stdout once it listens on
// 127.0.0.1:PORT; everything else (oidc-provider's warnings) goes to stderr.
//
// Loopback http: the issuer is http://127.0.0.1:PORT and `proxy` stays false (nothing
// forwards to us, so X-Forwarded-* must not be trusted); oidc-provider 9 has no
// production switch that refuses plain http, and its cookies simply lose `secure`.
// devInteractions are on: the built-in login and consent pages, where any login and any
// password sign in and the login becomes the `sub` (a development-only feature: it warns).
// oidc-provider 9 prints "Unsupported runtime" on Node 20 (it targets 22 LTS and later);
// it runs on Node >= 20.18 (it needs URL.parse), which package.json's engines says.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const port = Number.parseInt(process.argv[2], 10);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node provider.mjs PORT < config.json\n');
  process.exit(2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const config = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function freshJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }] };
}

const accounts = config.accounts ?? {};

async function findAccount(_ctx, sub) {
  // A login the test did not declare still signs in (devInteractions accept anything):
  // such an account has a subject and nothing else, in particular no e-mail.
  const known = accounts[sub];
  return {
    accountId: sub,
    async claims() {
      if (!known) return { sub };
      return {
        sub,
        email: known.email,
        email_verified: known.email_verified,
        name: known.name,
      };
    },
  };
}

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  jwks: config.jwks ?? freshJwks(),
  findAccount,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // RFC 7636: every client, confidential ones included, must send an S256 challenge
  // (oidc-provider only implements S256).
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    userinfo: { enabled: true },
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
});
provider.proxy = false;

// oidc-provider checks static clients on first use; check them now, so a test's bad
// client shows up as a start-up failure instead of an error page mid-flow.
for (const { client_id: clientId } of config.clients ?? []) {
  try {
    await provider.Client.find(clientId);
  } catch (error) {
    process.stderr.write(`client ${clientId}: ${error.message} ${error.error_description ?? ''}\n`);
    process.exit(1);
  }
}

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);

function stop() {
  server.close(() => process.exit(0));
  // Keep-alive connections would hold close() open; the test asked us to go now.
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
