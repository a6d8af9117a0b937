import { InvalidTargetUrlError } from '../../../lambdas/gateway/errors';
import {
  connectHost,
  createRedactor,
  fillUrlTemplate,
  parseFetchableUrl,
} from '../../../lambdas/gateway/urls';

const noRedaction = createRedactor();

describe('parseFetchableUrl', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0177.0.0.01/', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://127.0.0.1./', '127.0.0.1'],
  ])('normalises the host of %s to %s, the address node connects to', (raw, host) => {
    expect(connectHost(parseFetchableUrl(raw, noRedaction))).toBe(host);
  });

  it('resolves a relative redirect against the current URL', () => {
    const base = new URL('https://example.com/a/b?x=1');

    expect(parseFetchableUrl('../c', noRedaction, base).href).toBe('https://example.com/c');
  });

  it('names the scheme it refuses', () => {
    expect(() => parseFetchableUrl('javascript:alert(1)', noRedaction)).toThrow(
      /scheme javascript: is not one of http:, https:/,
    );
  });

  it('throws InvalidTargetUrlError with the redacted input when the URL does not parse', () => {
    const redact = createRedactor(['topsecret']);

    expect(() => parseFetchableUrl('http://[topsecret', redact)).toThrow(InvalidTargetUrlError);
    expect(() => parseFetchableUrl('http://[topsecret', redact)).toThrow('http://[***');
  });
});

describe('createRedactor', () => {
  it('hides every secret, raw or URL-encoded, and any password', () => {
    const redact = createRedactor(['a b/c']);

    expect(redact('https://u:pw@api.example/?k=a%20b%2Fc&again=a b/c')).toBe(
      'https://u:***@api.example/?k=***&again=***',
    );
  });

  it('leaves a URL without secrets alone', () => {
    expect(noRedaction('https://example.com/?q=1')).toBe('https://example.com/?q=1');
  });
});

describe('fillUrlTemplate', () => {
  it('puts the URL-encoded target and key in their places, everywhere they appear', () => {
    const filled = fillUrlTemplate(
      'https://api.example/?url={url}&key={key}&echo={url}',
      'https://t.example/?a=1&b={key}',
      'k&y',
    );

    expect(filled).toBe(
      'https://api.example/?url=https%3A%2F%2Ft.example%2F%3Fa%3D1%26b%3D%7Bkey%7D&key=k%26y' +
        '&echo=https%3A%2F%2Ft.example%2F%3Fa%3D1%26b%3D%7Bkey%7D',
    );
  });
});
