import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULTS, ENV } from '../../../lambdas/config';
import { GatewaySettingsError } from '../../../lambdas/gateway/errors';
import { gatewayOptionsFromEnv } from '../../../lambdas/gateway/env';

const TEMPLATE = 'https://api.example.com/v1/?api_key={key}&url={url}';

const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);

beforeAll(() => {
  process.env.AWS_REGION ??= 'eu-west-1';
});

beforeEach(() => {
  secretsManager.reset();
  ssm.reset();
});

describe('gatewayOptionsFromEnv', () => {
  it('fetches directly with the default cap when nothing is set', () => {
    const options = gatewayOptionsFromEnv({});

    expect(options).toMatchObject({
      maxBytes: DEFAULTS.fetchMaxBytes,
      urlTemplate: undefined,
      apiKey: undefined,
    });
  });

  it('reads the byte cap', () => {
    const options = gatewayOptionsFromEnv({ [ENV.fetchMaxBytes]: '1000' });

    expect(options.maxBytes).toBe(1000);
  });

  it('reads the key from the secret named by its variable', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'env/secret-key' })
      .resolves({ SecretString: 'secret-value' });

    const options = gatewayOptionsFromEnv({
      [ENV.gatewayUrlTemplate]: TEMPLATE,
      [ENV.gatewayKeySecretId]: 'env/secret-key',
    });

    expect(options.urlTemplate).toBe(TEMPLATE);
    await expect(options.apiKey?.()).resolves.toBe('secret-value');
  });

  it('reads the key from the SSM parameter named by its variable', async () => {
    ssm
      .on(GetParameterCommand, { Name: '/env/parameter-key', WithDecryption: true })
      .resolves({ Parameter: { Value: 'parameter-value' } });

    const options = gatewayOptionsFromEnv({
      [ENV.gatewayUrlTemplate]: TEMPLATE,
      [ENV.gatewayKeyParameterName]: '/env/parameter-key',
    });

    await expect(options.apiKey?.()).resolves.toBe('parameter-value');
  });

  it('refuses both a secret id and a parameter name, naming both variables', () => {
    const env = {
      [ENV.gatewayUrlTemplate]: TEMPLATE,
      [ENV.gatewayKeySecretId]: 'a',
      [ENV.gatewayKeyParameterName]: '/b',
    };

    expect(() => gatewayOptionsFromEnv(env)).toThrow(GatewaySettingsError);
    expect(() => gatewayOptionsFromEnv(env)).toThrow(
      new RegExp(`${ENV.gatewayKeySecretId}.*${ENV.gatewayKeyParameterName}`),
    );
  });

  it('refuses a key source without a URL template', () => {
    expect(() => gatewayOptionsFromEnv({ [ENV.gatewayKeySecretId]: 'a' })).toThrow(
      new RegExp(`${ENV.gatewayUrlTemplate} is not`),
    );
  });

  it('refuses a template with {key} but no key source', () => {
    expect(() => gatewayOptionsFromEnv({ [ENV.gatewayUrlTemplate]: TEMPLATE })).toThrow(
      new RegExp(`contains \\{key\\}, but neither`),
    );
  });

  it('refuses a byte cap that is not a positive number, naming the variable', () => {
    expect(() => gatewayOptionsFromEnv({ [ENV.fetchMaxBytes]: 'lots' })).toThrow(
      new RegExp(`${ENV.fetchMaxBytes} must be a positive number; got "lots"`),
    );
  });
});
