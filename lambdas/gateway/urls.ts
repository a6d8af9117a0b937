/**
 * URL handling of the gateway: parsing and scheme rules, the host as node's
 * `net` sees it, redaction for errors, and the scraping-API URL template.
 */
import { isIP } from 'node:net';
import { GatewaySettingsError, InvalidTargetUrlError } from './errors';

/** The only schemes the gateway fetches. */
export const FETCHABLE_PROTOCOLS = ['http:', 'https:'] as const;

/** Placeholders of a scraping-API URL template. */
export const TEMPLATE_PLACEHOLDERS = { url: '{url}', key: '{key}' } as const;

const REDACTED = '***';

/** Turns secrets in a URL into `***`; used on every URL an error or log shows. */
export type Redactor = (url: string) => string;

/**
 * Parses a URL the gateway is asked to fetch (or is redirected to), with the
 * WHATWG parser, so numeric hosts such as `http://2130706433/` come out as the
 * dotted address node will connect to.
 */
export const parseFetchableUrl = (raw: string, redact: Redactor, base?: URL): URL => {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new InvalidTargetUrlError(redact(raw), 'it does not parse as a URL');
  }
  if (!(FETCHABLE_PROTOCOLS as readonly string[]).includes(url.protocol)) {
    throw new InvalidTargetUrlError(
      redact(url.href),
      `scheme ${url.protocol} is not one of ${FETCHABLE_PROTOCOLS.join(', ')}`,
    );
  }

  return url;
};

/** The host as `net.connect` takes it: IPv6 literals without brackets. */
export const connectHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** True when the host is an IP literal, which node connects to without a DNS lookup. */
export const isLiteralAddress = (host: string): boolean => isIP(host) !== 0;

/**
 * A redactor that hides every occurrence of the given secrets, raw or
 * URL-encoded, then the URL's password. Secrets go first: re-serialising the
 * URL to hide the password may re-encode them into a form no longer matched.
 */
export const createRedactor = (secrets: readonly string[] = []): Redactor => {
  const forms = secrets
    .filter((secret) => secret !== '')
    .flatMap((secret) => [encodeURIComponent(secret), encodeURI(secret), secret])
    .sort((a, b) => b.length - a.length);

  return (url) => hidePassword(forms.reduce((text, form) => text.split(form).join(REDACTED), url));
};

const hidePassword = (raw: string): string => {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = REDACTED;

    return url.href;
  } catch {
    return raw;
  }
};

/** Checks a scraping-API template once, when the gateway is built. */
export const validateUrlTemplate = (template: string, hasKey: boolean): void => {
  if (!template.includes(TEMPLATE_PLACEHOLDERS.url)) {
    throw new GatewaySettingsError(
      'urlTemplate',
      `urlTemplate must contain ${TEMPLATE_PLACEHOLDERS.url}; got "${template}"`,
    );
  }
  if (template.includes(TEMPLATE_PLACEHOLDERS.key) && !hasKey) {
    throw new GatewaySettingsError(
      'urlTemplate',
      `urlTemplate contains ${TEMPLATE_PLACEHOLDERS.key} but no apiKey provider is set; got "${template}"`,
    );
  }
  if (hasKey && !template.includes(TEMPLATE_PLACEHOLDERS.key)) {
    throw new GatewaySettingsError(
      'apiKey',
      `apiKey is set but urlTemplate has no ${TEMPLATE_PLACEHOLDERS.key} to put it in; got "${template}"`,
    );
  }
  const example = fillUrlTemplate(template, 'https://example.com/', 'key');
  if (!URL.canParse(example) || !isFetchableScheme(new URL(example).protocol)) {
    throw new GatewaySettingsError(
      'urlTemplate',
      `urlTemplate must be an http: or https: URL once filled; got "${template}"`,
    );
  }
};

const isFetchableScheme = (protocol: string): boolean =>
  (FETCHABLE_PROTOCOLS as readonly string[]).includes(protocol);

/** Fills `{url}` with the URL-encoded target and `{key}` with the URL-encoded key. */
export const fillUrlTemplate = (template: string, targetUrl: string, key: string): string =>
  template
    .split(TEMPLATE_PLACEHOLDERS.url)
    .map((part) => part.split(TEMPLATE_PLACEHOLDERS.key).join(encodeURIComponent(key)))
    .join(encodeURIComponent(targetUrl));
