/**
 * Gateway options from the worker's environment (names in lambdas/config.ts).
 */
import { DEFAULTS, ENV, numberFromEnv } from '../config';
import { keyFromParameter, keyFromSecret, type ApiKeyProvider } from './api-key';
import { GatewaySettingsError } from './errors';
import type { GatewayOptions } from './gateway';
import { TEMPLATE_PLACEHOLDERS } from './urls';

/**
 * Reads the URL template, where its key comes from (a secret id or an SSM
 * parameter name, not both) and the byte cap. Throws
 * {@link GatewaySettingsError} naming the variables when they do not fit together.
 */
export const gatewayOptionsFromEnv = (env: NodeJS.ProcessEnv = process.env): GatewayOptions => {
  const urlTemplate = nonEmpty(env[ENV.gatewayUrlTemplate]);
  const apiKey = keyProviderFromEnv(env);
  requireTemplateForKey(urlTemplate, apiKey);

  return {
    maxBytes: numberFromEnv(ENV.fetchMaxBytes, DEFAULTS.fetchMaxBytes, env),
    urlTemplate,
    apiKey,
    lambdaRuntimeApi: nonEmpty(env.AWS_LAMBDA_RUNTIME_API),
  };
};

const keyProviderFromEnv = (env: NodeJS.ProcessEnv): ApiKeyProvider | undefined => {
  const secretId = nonEmpty(env[ENV.gatewayKeySecretId]);
  const parameterName = nonEmpty(env[ENV.gatewayKeyParameterName]);
  if (secretId !== undefined && parameterName !== undefined) {
    throw new GatewaySettingsError(
      `${ENV.gatewayKeySecretId}, ${ENV.gatewayKeyParameterName}`,
      `Set only one of ${ENV.gatewayKeySecretId} and ${ENV.gatewayKeyParameterName}; ` +
        `got both ("${secretId}" and "${parameterName}")`,
    );
  }

  if (secretId !== undefined) return keyFromSecret(secretId);

  return parameterName === undefined ? undefined : keyFromParameter(parameterName);
};

const requireTemplateForKey = (
  urlTemplate: string | undefined,
  apiKey: ApiKeyProvider | undefined,
): void => {
  const keySources = `${ENV.gatewayKeySecretId} or ${ENV.gatewayKeyParameterName}`;
  if (apiKey !== undefined && urlTemplate === undefined) {
    throw new GatewaySettingsError(
      ENV.gatewayUrlTemplate,
      `${keySources} is set, but ${ENV.gatewayUrlTemplate} is not; the key has nowhere to go`,
    );
  }
  if (apiKey === undefined && urlTemplate?.includes(TEMPLATE_PLACEHOLDERS.key)) {
    throw new GatewaySettingsError(
      ENV.gatewayUrlTemplate,
      `${ENV.gatewayUrlTemplate} contains ${TEMPLATE_PLACEHOLDERS.key}, but neither ${keySources} is set`,
    );
  }
};

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value;
