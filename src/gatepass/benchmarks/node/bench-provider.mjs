// oidc-provider (npm) as the token-endpoint baseline of `gatepass bench`, configured like
// the gatepass server it is compared with: one process, a confidential client with
// client_secret_basic and the client_credentials grant, the custom scopes
// "orders:read orders:write", JWT access tokens (RFC 9068) of 900 s signed with the
// algorithm of the resource indicator asked for, discovery and a JWKS of three keys.
//
// Usage: node bench-provider.mjs PORT < config.json
//   config = {"client_id", "client_secret", "resources": {"<resource URI>": "<alg>", ...}}
// Prints one JSON line {"ready": true, "issuer": ...} once it listens on 127.0.0.1:PORT.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const port = Number.parseInt(process.argv[2], 10);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const config = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function key(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg, use: 'sig' };
}

const jwks = {
  keys: [
    key('rsa', { modulusLength: 2048 }, 'RS256'),
    key('ec', { namedCurve: 'P-256' }, 'ES256'),
    key('ed25519', {}, 'EdDSA'),
  ],
};
const scope = 'orders:read orders:write';
const resources = config.resources;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client_id,
      client_secret: config.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
    },
  ],
  jwks,
  scopes: ['openid', ...scope.split(' ')],
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => Object.keys(resources)[0],
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx, resourceIndicator) {
        const alg = resources[resourceIndicator];
        if (!alg) throw new Provider.errors.InvalidTarget();
        return {
          scope,
          audience: resourceIndicator,
          accessTokenTTL: 900,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
});

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
