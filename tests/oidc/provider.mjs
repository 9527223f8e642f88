// An independent, certified OpenID Provider (node-oidc-provider) for the portal's interoperability
// tests (tests/integration/test_oidc_interop.py). It listens on a free 127.0.0.1 port and prints
// one JSON line {"issuer": "..."} when ready.
//
// Configuration comes as JSON in the OIDC_TEST_CONFIG environment variable:
//   { "client": { "client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris" },
//     "accounts": { "<account id>": { "name", "id_number", "legal_rep_of"?, "org_role"? } },
//     "acr_values": ["...password", "...face"] }
//
// With OIDC_TLS_CERT and OIDC_TLS_KEY (PEM files) it serves https (the production-mode soak in
// bench/prod_stack.py: production refuses an http:// issuer).
//
// The login page is a minimal form (GET /interaction/:uid) that the test drives with HTTP:
// POST /interaction/:uid/login with account=<id>&acr=<value> finishes the login with that
// assurance level; POST /interaction/:uid/abort denies it. The provider is told NOT to enforce an
// essential `acr` request itself (the login prompt's essential_acr(s) checks are removed), so that
// a too-weak login reaches the portal and the portal's own re-check is what refuses it.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { generateKeyPairSync, randomUUID } from 'node:crypto';

import Provider, { interactionPolicy } from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG || '{}');
const accounts = config.accounts || {};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

const policy = interactionPolicy.base();
const loginPrompt = policy.get('login');
loginPrompt.checks.remove('essential_acrs');
loginPrompt.checks.remove('essential_acr');

const CUSTOM_CLAIMS = ['id_number', 'legal_rep_of', 'org_role'];

const configuration = {
  clients: [{
    client_id: config.client.client_id,
    client_secret: config.client.client_secret,
    redirect_uris: config.client.redirect_uris,
    post_logout_redirect_uris: config.client.post_logout_redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomUUID()] },
  acrValues: config.acr_values,
  claims: { openid: ['sub'], profile: ['name'], realname: CUSTOM_CLAIMS },
  scopes: ['openid', 'profile', 'realname'],
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  interactions: {
    policy,
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
  // First-party client: the grant is created without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile realname');
    grant.addOIDCClaims(['name', ...CUSTOM_CLAIMS]);
    await grant.save();
    return grant;
  },
};

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
    req.on('error', reject);
  });
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function interaction(provider, req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    res.statusCode = 400;
    res.end('interaction mismatch');
    return;
  }
  if (req.method === 'GET') {
    const options = Object.entries(accounts)
      .map(([id, a]) => `<option value="${escape(id)}">${escape(a.name)}</option>`).join('');
    const acrs = (config.acr_values || []).map((v) => `<option>${escape(v)}</option>`).join('');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>login</title>
<form method="post" action="/interaction/${uid}/login">
<select name="account">${options}</select><select name="acr">${acrs}</select>
<button>login</button></form>
<form method="post" action="/interaction/${uid}/abort"><button>cancel</button></form>`);
    return;
  }
  const form = await readForm(req);
  let result;
  if (action === 'login') {
    if (!accounts[form.account]) {
      res.statusCode = 400;
      res.end('unknown account');
      return;
    }
    const amr = form.acr && form.acr.endsWith(':face') ? ['face'] : ['pwd'];
    result = { login: { accountId: form.account, acr: form.acr, amr } };
  } else {
    result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const tls = process.env.OIDC_TLS_CERT
  ? { cert: fs.readFileSync(process.env.OIDC_TLS_CERT), key: fs.readFileSync(process.env.OIDC_TLS_KEY) }
  : null;
const server = tls ? https.createServer(tls) : http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((err) => {
        console.error(err);
        res.statusCode = 500;
        res.end(String(err));
      });
    } else {
      callback(req, res);
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
