import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGateway } from '../../../lambdas/gateway';
import { TlsFailedError } from '../../../lambdas/gateway/errors';
import { resolveTo } from './servers';

/**
 * A throwaway certificate for target.example, localhost and 127.0.0.1 that no
 * CA signed, made with openssl for this run so no private key lives in the repo.
 */
const makeSelfSignedIdentity = () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'conveyor-tls-'));
  const [cert, key] = [path.join(folder, 'cert.pem'), path.join(folder, 'key.pem')];
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=target.example',
        '-addext',
        'subjectAltName=DNS:target.example,DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );

    return { cert: readFileSync(cert), key: readFileSync(key) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
};

const TLS_IDENTITY = makeSelfSignedIdentity();

describe('gateway over https', () => {
  let server: https.Server;
  let port: number;
  let requests = 0;

  beforeAll(async () => {
    server = https.createServer(TLS_IDENTITY, (_request, response) => {
      requests += 1;
      response.end('secret');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses an untrusted certificate with a permanent TlsFailedError', async () => {
    const fetchTarget = createGateway({
      resolve: resolveTo('127.0.0.1'),
      allowedAddresses: ['127.0.0.1/32'],
    });

    const fetching = fetchTarget(`https://target.example:${port}/`, { timeoutMs: 2_000 });

    await expect(fetching).rejects.toThrow(TlsFailedError);
    await expect(fetching).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      retryable: false,
    });
    expect(requests).toBe(0);
  });

  it('refuses the https host by address before any handshake', async () => {
    const fetchTarget = createGateway({ resolve: resolveTo('127.0.0.1') });

    const fetching = fetchTarget(`https://target.example:${port}/`, { timeoutMs: 2_000 });

    await expect(fetching).rejects.toMatchObject({ name: 'BlockedAddressError' });
  });
});
