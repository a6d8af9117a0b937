/**
 * Which IP addresses the gateway may connect to: public unicast only, unless
 * an address is listed as allowed. IPv4-mapped IPv6 addresses are judged as the
 * IPv4 address they carry, and so are the transition forms (6to4, Teredo,
 * NAT64, SIIT) whose embedded IPv4 address ipaddr.js can extract.
 */
import ipaddr from 'ipaddr.js';
import { GatewaySettingsError } from './errors';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** The range name ipaddr.js gives to public unicast addresses. */
const PUBLIC_RANGE = 'unicast';

/** Global unicast IPv6 space (2000::/3); IANA reserves everything else. */
const GLOBAL_UNICAST_IPV6: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('2000::'), 3];

/** The NAT64 well-known prefix (64:ff9b::/96), which embeds a public IPv4 address. */
const NAT64_WELL_KNOWN: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('64:ff9b::'), 96];

/** Range name reported for the Lambda runtime API's address. */
const LAMBDA_RUNTIME_API_RANGE = 'the Lambda runtime API';

/** The gateway's verdict on one address. */
export type AddressVerdict =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Why, e.g. `loopback` or `private (6to4)`. */ readonly range: string;
    };

/** Decides whether the gateway may connect to an address. */
export interface AddressPolicy {
  check(address: string): AddressVerdict;
}

export interface AddressPolicyOptions {
  /**
   * CIDRs or single addresses allowed although not public, e.g. `['127.0.0.1/32']`.
   * @default [] (public unicast only)
   */
  readonly allowedAddresses?: readonly string[];
  /**
   * The Lambda runtime API endpoint (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`).
   * Its address is refused even when `allowedAddresses` covers it.
   * @default undefined (nothing extra refused)
   */
  readonly lambdaRuntimeApi?: string;
}

/** Builds the policy; throws {@link GatewaySettingsError} on an unparseable allowed entry. */
export const createAddressPolicy = (options: AddressPolicyOptions = {}): AddressPolicy => {
  const allowed = (options.allowedAddresses ?? []).map(parseAllowedEntry);
  const runtimeApi = runtimeApiAddress(options.lambdaRuntimeApi);

  const check = (address: string): AddressVerdict => {
    const parsed = parseAddress(address);
    if (parsed === undefined) return { allowed: false, range: 'not an IP address' };
    if (runtimeApi !== undefined && sameAddress(parsed, runtimeApi)) {
      return { allowed: false, range: LAMBDA_RUNTIME_API_RANGE };
    }
    if (allowed.some((entry) => inSubnet(parsed, entry))) return { allowed: true };

    const range = publicRangeOf(parsed);

    return range === PUBLIC_RANGE ? { allowed: true } : { allowed: false, range };
  };

  return { check };
};

/**
 * The range an address belongs to, `unicast` meaning public. Exported for tests
 * and for callers that only need the classification.
 */
export const addressRange = (address: string): string => {
  const parsed = parseAddress(address);

  return parsed === undefined ? 'not an IP address' : publicRangeOf(parsed);
};

const publicRangeOf = (address: Address): string =>
  address instanceof ipaddr.IPv6 ? ipv6Range(address) : address.range();

const ipv6Range = (address: ipaddr.IPv6): string => {
  const range = address.range();

  if (range === '6to4') return embeddedRange(range, [ipv4From(address.parts, 1)]);
  if (range === 'rfc6145') return embeddedRange(range, [ipv4From(address.parts, 6)]);
  if (range === 'rfc6052' && address.match(NAT64_WELL_KNOWN)) {
    return embeddedRange('NAT64', [ipv4From(address.parts, 6)]);
  }
  if (range === 'teredo') return embeddedRange(range, teredoAddresses(address));
  if (range === PUBLIC_RANGE && !address.match(GLOBAL_UNICAST_IPV6)) return 'reserved';

  return range;
};

/** Public only when every embedded IPv4 address is; otherwise names the form. */
const embeddedRange = (form: string, embedded: readonly ipaddr.IPv4[]): string => {
  const refused = embedded.map((ipv4) => ipv4.range()).find((range) => range !== PUBLIC_RANGE);

  return refused === undefined ? PUBLIC_RANGE : `${refused} (${form})`;
};

/** Teredo carries the server address in clear and the client address inverted. */
const teredoAddresses = (address: ipaddr.IPv6): ipaddr.IPv4[] => {
  const inverted = address.parts.map((part) => ~part & 0xffff);

  return [ipv4From(address.parts, 2), ipv4From(inverted, 6)];
};

const ipv4From = (parts: readonly number[], index: number): ipaddr.IPv4 => {
  const high = parts[index] ?? 0;
  const low = parts[index + 1] ?? 0;

  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
};

/** Parses an address, turning IPv4-mapped IPv6 into the IPv4 address it maps. */
const parseAddress = (address: string): Address | undefined => {
  if (!ipaddr.isValid(address)) return undefined;

  return ipaddr.process(address);
};

const parseAllowedEntry = (entry: string): [Address, number] => {
  try {
    if (entry.includes('/')) return normaliseSubnet(ipaddr.parseCIDR(entry));
    const address = ipaddr.process(entry);

    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch (error) {
    throw new GatewaySettingsError(
      'allowedAddresses',
      `allowedAddresses entries must be IP addresses or CIDRs; got "${entry}" (${String(error)})`,
    );
  }
};

/** An IPv4-mapped CIDR such as `::ffff:127.0.0.0/104` becomes `127.0.0.0/8`. */
const normaliseSubnet = ([address, prefix]: [Address, number]): [Address, number] => {
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && prefix >= 96) {
    return [address.toIPv4Address(), prefix - 96];
  }

  return [address, prefix];
};

const inSubnet = (address: Address, [network, prefix]: [Address, number]): boolean =>
  address.kind() === network.kind() && address.match(network, prefix);

const sameAddress = (address: Address, other: Address): boolean =>
  inSubnet(address, [other, other.kind() === 'ipv4' ? 32 : 128]);

/** The address of `host:port` or `[v6]:port`, when the host is an IP address. */
const runtimeApiAddress = (endpoint: string | undefined): Address | undefined => {
  if (endpoint === undefined || endpoint === '') return undefined;
  const host = endpoint.startsWith('[')
    ? endpoint.slice(1, endpoint.indexOf(']'))
    : endpoint.replace(/:\d+$/, '');

  return parseAddress(host);
};
