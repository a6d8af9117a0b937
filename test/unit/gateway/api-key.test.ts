import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { ApiKeyReadError, keyFromParameter, keyFromSecret } from '../../../lambdas/gateway/api-key';

const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);

/** Powertools caches per name across tests, so each test reads a name of its own. */
const uniqueName = (prefix: string) => `${prefix}-${randomUUID()}`;

beforeAll(() => {
  process.env.AWS_REGION ??= 'eu-west-1';
});

beforeEach(() => {
  secretsManager.reset();
  ssm.reset();
});

describe('keyFromSecret', () => {
  it('reads the secret string from Secrets Manager', async () => {
    const secretId = uniqueName('conveyor/key');
    secretsManager
      .on(GetSecretValueCommand, { SecretId: secretId })
      .resolves({ SecretString: 'abc' });

    const key = await keyFromSecret(secretId)();

    expect(key).toBe('abc');
  });

  it('caches the key for maxAgeSeconds, so a busy worker reads it once', async () => {
    const secretId = uniqueName('conveyor/key');
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'abc' });
    const provider = keyFromSecret(secretId, { maxAgeSeconds: 60 });

    await provider();
    await provider();
    await provider();

    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('rewraps an SDK failure, naming the secret and the SDK error', async () => {
    const secretId = uniqueName('conveyor/key');
    const denied = Object.assign(new Error('User is not authorized'), {
      name: 'AccessDeniedException',
    });
    secretsManager.on(GetSecretValueCommand).rejects(denied);

    const reading = keyFromSecret(secretId)();

    await expect(reading).rejects.toThrow(ApiKeyReadError);
    await expect(reading).rejects.toMatchObject({ source: `secret ${secretId}` });
    await expect(reading).rejects.toThrow(/AccessDenied|not authorized/);
  });

  it('refuses an empty secret', async () => {
    const secretId = uniqueName('conveyor/key');
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '  ' });

    await expect(keyFromSecret(secretId)()).rejects.toThrow(/value is empty/);
  });

  it('decodes a binary secret as UTF-8', async () => {
    const secretId = uniqueName('conveyor/key');
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretBinary: new Uint8Array(Buffer.from('binary-key')) });

    await expect(keyFromSecret(secretId)()).resolves.toBe('binary-key');
  });
});

describe('keyFromParameter', () => {
  it('reads the parameter from SSM with decryption', async () => {
    const name = uniqueName('/conveyor/key');
    ssm
      .on(GetParameterCommand, { Name: name, WithDecryption: true })
      .resolves({ Parameter: { Value: 'from-ssm' } });

    const key = await keyFromParameter(name)();

    expect(key).toBe('from-ssm');
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toMatchObject({
      Name: name,
      WithDecryption: true,
    });
  });

  it('rewraps a missing parameter, naming it', async () => {
    const name = uniqueName('/conveyor/key');
    const missing = Object.assign(new Error('Parameter not found'), {
      name: 'ParameterNotFound',
    });
    ssm.on(GetParameterCommand).rejects(missing);

    await expect(keyFromParameter(name)()).rejects.toMatchObject({
      name: 'ApiKeyReadError',
      source: `parameter ${name}`,
    });
  });
});
