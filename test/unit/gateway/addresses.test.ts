import { addressRange, createAddressPolicy } from '../../../lambdas/gateway/addresses';
import { GatewaySettingsError } from '../../../lambdas/gateway/errors';

describe('addressRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.100.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
  ])('classifies IPv4 %s as %s', (address, range) => {
    expect(addressRange(address)).toBe(range);
  });

  it.each([
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::7f00:1', 'reserved'],
  ])('classifies IPv6 %s as %s', (address, range) => {
    expect(addressRange(address)).toBe(range);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
  ])('classifies IPv4-mapped %s as the IPv4 address it maps (%s)', (address, range) => {
    expect(addressRange(address)).toBe(range);
  });

  it.each([
    ['2002:7f00:1::', 'loopback (6to4)'],
    ['2002:a00:1::1', 'private (6to4)'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal (NAT64)'],
    ['::ffff:0:7f00:1', 'loopback (rfc6145)'],
    ['2001:0:a00:1::f5ff:fffe', 'private (teredo)'],
  ])('classifies the transition form %s by its embedded IPv4 address', (address, range) => {
    expect(addressRange(address)).toBe(range);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700::1111', '2002:808:808::1', '64:ff9b::808:808'])(
    'classifies public %s as unicast',
    (address) => {
      expect(addressRange(address)).toBe('unicast');
    },
  );
});

describe('createAddressPolicy', () => {
  it('refuses everything but public unicast by default', () => {
    const policy = createAddressPolicy();

    expect(policy.check('93.184.215.14')).toEqual({ allowed: true });
    expect(policy.check('127.0.0.1')).toEqual({ allowed: false, range: 'loopback' });
    expect(policy.check('not-an-address')).toEqual({
      allowed: false,
      range: 'not an IP address',
    });
  });

  it('allows listed CIDRs and addresses, including their IPv4-mapped form', () => {
    const policy = createAddressPolicy({ allowedAddresses: ['127.0.0.1/32', '10.0.0.0/8', '::1'] });

    expect(policy.check('127.0.0.1')).toEqual({ allowed: true });
    expect(policy.check('::ffff:127.0.0.1')).toEqual({ allowed: true });
    expect(policy.check('10.200.0.1')).toEqual({ allowed: true });
    expect(policy.check('::1')).toEqual({ allowed: true });
    expect(policy.check('127.0.0.2')).toEqual({ allowed: false, range: 'loopback' });
  });

  it('refuses the Lambda runtime API address even when it is allowed', () => {
    const policy = createAddressPolicy({
      allowedAddresses: ['127.0.0.0/8'],
      lambdaRuntimeApi: '127.0.0.1:9001',
    });

    expect(policy.check('127.0.0.1')).toEqual({
      allowed: false,
      range: 'the Lambda runtime API',
    });
    expect(policy.check('::ffff:127.0.0.1')).toMatchObject({ allowed: false });
    expect(policy.check('127.0.0.2')).toEqual({ allowed: true });
  });

  it('throws a settings error naming the option and the entry for an unparseable entry', () => {
    expect(() => createAddressPolicy({ allowedAddresses: ['127.0.0.1/33'] })).toThrow(
      GatewaySettingsError,
    );
    expect(() => createAddressPolicy({ allowedAddresses: ['localhost'] })).toThrow(
      /allowedAddresses .*"localhost"/,
    );
  });
});
