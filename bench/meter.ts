/**
 * Records every DynamoDB request a protocol sends, with what is needed to
 * bill it: the items it writes (by key), the bytes it reads, and every item
 * image seen on the way (request items, returned attributes, items returned
 * with a failed condition). Capacity is derived afterwards from those sizes
 * by the rules in ./capacity.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { itemBytes, readUnits, writeUnits } from './capacity';

type Item = Record<string, AttributeValue>;

/** Key attribute names per table name, to identify the item a request touches. */
export type KeySchemas = Readonly<Record<string, readonly string[]>>;

interface WriteRecord {
  readonly itemId: string;
  readonly transactional: boolean;
}

interface ReadRecord {
  readonly bytes: number;
  readonly consistent: boolean;
  readonly transactional: boolean;
}

/** What a metered protocol cost. */
export interface MeteredCost {
  /** Requests by DynamoDB operation name (SDK attempts, so SDK retries count). */
  readonly requests: Readonly<Record<string, number>>;
  readonly requestCount: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Largest item image seen, per table name. */
  readonly largestItemBytes: Readonly<Record<string, number>>;
}

/** Errors DynamoDB bills as a write although nothing was written. */
const BILLED_FAILURES = new Set([
  'ConditionalCheckFailedException',
  'TransactionCanceledException',
]);

const WRITE_ACTIONS = ['Put', 'Update', 'Delete', 'ConditionCheck'] as const;

interface TransactWriteEntry {
  readonly Put?: { readonly TableName?: string; readonly Item?: Item };
  readonly Update?: { readonly TableName?: string; readonly Key?: Item };
  readonly Delete?: { readonly TableName?: string; readonly Key?: Item };
  readonly ConditionCheck?: { readonly TableName?: string; readonly Key?: Item };
}

/** A request as the middleware sees it: marshalled input and output. */
interface RequestInput {
  readonly TableName?: string;
  readonly Item?: Item;
  readonly Key?: Item;
  readonly ConsistentRead?: boolean;
  readonly ReturnValues?: string;
  readonly TransactItems?: readonly TransactWriteEntry[];
  readonly RequestItems?: Readonly<Record<string, readonly BatchWriteEntry[]>>;
}

interface BatchWriteEntry {
  readonly PutRequest?: { readonly Item: Item };
  readonly DeleteRequest?: { readonly Key: Item };
}

interface RequestOutput {
  readonly Item?: Item;
  readonly Items?: readonly Item[];
  readonly Attributes?: Item;
}

interface RequestFailure {
  readonly name?: string;
  readonly Item?: Item;
  readonly CancellationReasons?: readonly { readonly Item?: Item }[];
}

/** Full item images: attributes returned as ALL_NEW or ALL_OLD, not the UPDATED_* subsets. */
const FULL_IMAGE_RETURN_VALUES = new Set(['ALL_NEW', 'ALL_OLD']);

export class DynamoDbMeter {
  private readonly requests = new Map<string, number>();
  private readonly writes: WriteRecord[] = [];
  private readonly reads: ReadRecord[] = [];
  private readonly largestImage = new Map<string, number>();

  constructor(private readonly keySchemas: KeySchemas) {}

  /** Adds the counting middleware to `client` (before any document client is made from it). */
  attachTo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const input = args.input as RequestInput;
        this.requests.set(operation, (this.requests.get(operation) ?? 0) + 1);
        try {
          const result = await next(args);
          const output = result.output as RequestOutput;
          this.recordSuccess(
            operation,
            input,
            sentThroughDocumentClient(context) ? marshalledOutput(output) : output,
          );

          return result;
        } catch (error) {
          this.recordFailure(operation, input, error as RequestFailure);
          throw error;
        }
      },
      // Inside the SDK's retry middleware, so every attempt is counted as DynamoDB bills it.
      { step: 'finalizeRequest', priority: 'low', name: 'benchDynamoDbMeter' },
    );
  }

  /** Notes an item image read outside the protocol (the final state of the tables). */
  observe(tableName: string, item: Item): void {
    const itemId = this.itemIdOf(tableName, item);
    const bytes = itemBytes(item);
    this.largestImage.set(itemId, Math.max(bytes, this.largestImage.get(itemId) ?? 0));
  }

  /** Billing of everything recorded so far. */
  cost(): MeteredCost {
    const written = this.writes.reduce(
      (sum, write) =>
        sum + writeUnits(this.largestImage.get(write.itemId) ?? 0, write.transactional),
      0,
    );
    const read = this.reads.reduce(
      (sum, entry) =>
        sum +
        readUnits(entry.bytes, {
          consistent: entry.consistent,
          transactional: entry.transactional,
        }),
      0,
    );

    return {
      requests: Object.fromEntries(this.requests),
      requestCount: [...this.requests.values()].reduce((sum, count) => sum + count, 0),
      writeUnits: written,
      readUnits: read,
      largestItemBytes: this.largestPerTable(),
    };
  }

  private recordSuccess(operation: string, input: RequestInput, output: RequestOutput): void {
    switch (operation) {
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem':
        this.recordWrite(input, false);
        if (output.Attributes && FULL_IMAGE_RETURN_VALUES.has(input.ReturnValues ?? '')) {
          this.observe(input.TableName ?? '', output.Attributes);
        }
        return;
      case 'GetItem':
        return this.recordRead(input, output.Item ? [output.Item] : []);
      case 'Query':
      case 'Scan':
        return this.recordRead(input, output.Items ?? []);
      case 'BatchWriteItem':
        return this.recordBatchWrite(input);
      case 'TransactWriteItems':
        return this.recordTransactWrite(input);
    }
  }

  private recordFailure(operation: string, input: RequestInput, failure: RequestFailure): void {
    if (!BILLED_FAILURES.has(failure.name ?? '')) return;

    if (operation === 'TransactWriteItems') {
      this.recordTransactWrite(input);
      (failure.CancellationReasons ?? []).forEach((reason, index) => {
        const table = tableOfTransactEntry(input.TransactItems?.[index]);
        if (reason.Item && table) this.observe(table, reason.Item);
      });
      return;
    }
    this.recordWrite(input, false);
    if (failure.Item) this.observe(input.TableName ?? '', failure.Item);
  }

  private recordWrite(input: RequestInput, transactional: boolean): void {
    const table = input.TableName ?? '';
    const identifying = input.Item ?? input.Key ?? {};
    if (input.Item) this.observe(table, input.Item);
    this.writes.push({ itemId: this.itemIdOf(table, identifying), transactional });
  }

  private recordTransactWrite(input: RequestInput): void {
    for (const entry of input.TransactItems ?? []) {
      for (const action of WRITE_ACTIONS) {
        const request = entry[action] as RequestInput | undefined;
        if (request) this.recordWrite(request, true);
      }
    }
  }

  private recordBatchWrite(input: RequestInput): void {
    for (const [table, entries] of Object.entries(input.RequestItems ?? {})) {
      for (const entry of entries) {
        if (entry.PutRequest)
          this.recordWrite({ TableName: table, Item: entry.PutRequest.Item }, false);
        if (entry.DeleteRequest) {
          this.recordWrite({ TableName: table, Key: entry.DeleteRequest.Key }, false);
        }
      }
    }
  }

  private recordRead(input: RequestInput, items: readonly Item[]): void {
    const table = input.TableName ?? '';
    for (const item of items) this.observe(table, item);
    this.reads.push({
      bytes: items.reduce((sum, item) => sum + itemBytes(item), 0),
      consistent: input.ConsistentRead === true,
      transactional: false,
    });
  }

  private itemIdOf(tableName: string, item: Item): string {
    const keyNames = this.keySchemas[tableName] ?? Object.keys(item).sort();
    const key = keyNames.map((name) => JSON.stringify(item[name] ?? null)).join('|');

    return `${tableName}\u0000${key}`;
  }

  private largestPerTable(): Record<string, number> {
    const largest: Record<string, number> = {};
    for (const [itemId, bytes] of this.largestImage) {
      const table = itemId.slice(0, itemId.indexOf('\u0000'));
      largest[table] = Math.max(bytes, largest[table] ?? 0);
    }

    return largest;
  }
}

/**
 * The document client marshalls inputs before this middleware (which sees
 * AttributeValues) but unmarshalls outputs inside it (so it sees plain
 * values); it marks its requests with the SDK's DDB_MAPPER feature flag.
 */
const sentThroughDocumentClient = (context: object): boolean =>
  (context as { __aws_sdk_context?: { features?: Record<string, unknown> } }).__aws_sdk_context
    ?.features?.DDB_MAPPER !== undefined;

const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: true };

const marshalledOutput = (output: RequestOutput): RequestOutput => {
  const plain = output as {
    Item?: Record<string, unknown>;
    Items?: Record<string, unknown>[];
    Attributes?: Record<string, unknown>;
  };

  return {
    Item: plain.Item && marshall(plain.Item, MARSHALL_OPTIONS),
    Items: plain.Items?.map((item) => marshall(item, MARSHALL_OPTIONS)),
    Attributes: plain.Attributes && marshall(plain.Attributes, MARSHALL_OPTIONS),
  };
};

const tableOfTransactEntry = (entry: TransactWriteEntry | undefined): string | undefined => {
  for (const action of WRITE_ACTIONS) {
    const table = entry?.[action]?.TableName;
    if (table) return table;
  }

  return undefined;
};
