import { MissingSettingError, numberFromEnv, requireEnv } from '../../lambdas/config';

describe('handler settings from the environment', () => {
  it('names a missing variable', () => {
    expect(() => requireEnv('CONVEYOR_X', {})).toThrow(MissingSettingError);
    expect(() => requireEnv('CONVEYOR_X', {})).toThrow(
      'Environment variable CONVEYOR_X is not set',
    );
  });

  it('reads a positive number, falls back when unset, and rejects anything else with the value', () => {
    expect(numberFromEnv('N', 3, { N: '7' })).toBe(7);
    expect(numberFromEnv('N', 3, {})).toBe(3);
    expect(() => numberFromEnv('N', 3, { N: 'seven' })).toThrow(
      'N must be a positive number; got "seven"',
    );
  });
});
