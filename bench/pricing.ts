/**
 * The on-demand prices the benchmark turns capacity units into dollars with.
 * Only DynamoDB is priced: SQS requests, Lambda time and S3 puts are left out.
 */

/** DynamoDB on-demand throughput prices, us-east-1, Standard table class. */
export const DYNAMODB_ON_DEMAND_PRICES = {
  region: 'us-east-1',
  tableClass: 'Standard',
  usdPerMillionWriteRequestUnits: 0.625,
  usdPerMillionReadRequestUnits: 0.125,
  /** AWS halved on-demand throughput prices from this date; these are the reduced prices. */
  inEffectSince: '2024-11-01',
  /** When these figures were looked up for this benchmark. */
  retrievedOn: '2026-12-03',
  source:
    'https://aws.amazon.com/dynamodb/pricing/on-demand/ (figures read from a stored copy of ' +
    'airbyte.com/data-engineering-resources/dynamodb-pricing, dated 2025-07-21, which quotes them ' +
    'for US East; the stored AWS page excerpt did not show the numbers)',
  included: 'DynamoDB read and write request units only (no SQS, Lambda, S3 or storage)',
} as const;

/** Dollars per million tasks for the given units per task. */
export const dynamoDbUsdPerMillionTasks = (
  writeUnitsPerTask: number,
  readUnitsPerTask: number,
): number =>
  writeUnitsPerTask * DYNAMODB_ON_DEMAND_PRICES.usdPerMillionWriteRequestUnits +
  readUnitsPerTask * DYNAMODB_ON_DEMAND_PRICES.usdPerMillionReadRequestUnits;
