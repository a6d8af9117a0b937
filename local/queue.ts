/**
 * An in-process emulation of an SQS standard queue: visibility timeout,
 * receive counts, a fresh receipt handle per receive, delays, redrive to a
 * dead-letter queue, and seeded duplicate delivery. Times are kept in
 * milliseconds; the SQS-shaped methods take seconds, fractions allowed, so
 * tests can use visibility timeouts of a few tens of milliseconds.
 *
 * Receipt handles: each receive issues a new handle and retires the previous
 * one. A retired (stale) handle is a no-op for delete and change-visibility,
 * so a worker that outlived its visibility timeout can never delete or hide
 * the copy another worker received since. (On AWS such a late delete may or
 * may not succeed; the emulation picks the behaviour that cannot hide a bug.)
 */
import { randomUUID } from 'node:crypto';
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import {
  systemClock,
  type Clock,
  type MessageQueue,
  type TaskSender,
} from '../lambdas/domain/ports';
import { DEAD_LETTER_REASON_ATTRIBUTE, formatTaskMessage } from '../lambdas/domain/task-message';
import { LOCAL_AWS } from './dynamodb-local';
import { InvalidSettingError, MessageSendFailedError, ReceiptHandleInvalidError } from './errors';
import { LOCAL_ACCOUNT_ID } from './lambda-context';
import { seededRandom, type RandomSource } from './random';
import {
  md5OfBody,
  md5OfMessageAttributes,
  normaliseMessageAttributes,
  stringAttribute,
} from './sqs-record';

export const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30;
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
export const MAX_DELAY_SECONDS = 900;
export const MAX_MESSAGES_PER_RECEIVE = 10;
export const MAX_BATCH_ENTRIES = 10;
export const MAX_MESSAGE_BYTES = 262_144;
export const MAX_RECEIVE_WAIT_MS = 20_000;
export const MAX_RECEIVE_COUNT_LIMIT = 1_000;

/** Longest a waiting receive sleeps before it looks at the queue again. */
const LONG_POLL_TICK_MS = 25;
const LOCAL_SENDER_ID = 'AIDACONVEYORLOCAL0000';
const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/** Where messages go once they were received more than `maxReceiveCount` times. */
export interface RedrivePolicy {
  readonly queue: LocalQueue;
  /** 1–1000, as on SQS. */
  readonly maxReceiveCount: number;
}

export interface LocalQueueOptions {
  /** Queue name: 1–80 letters, digits, `-` or `_`. */
  readonly name: string;
  /** Default visibility timeout, 0–43200 seconds, fractions allowed. @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** Dead-letter queue and the receive count that sends a message there. @default none */
  readonly redrivePolicy?: RedrivePolicy;
  /**
   * Share of receives (0–1) that also leave an independent copy of the message
   * visible at once, so a second consumer receives it while the first still
   * holds it: SQS's at-least-once delivery, on demand. Copies are never copied
   * again, and deleting one copy leaves the other. @default 0
   */
  readonly duplicateRate?: number;
  /** Seed of the random source that decides duplicates. @default 1 */
  readonly seed?: number;
  /** Time source for visibility, delays and timestamps. @default systemClock */
  readonly clock?: Clock;
  /** Region in ARNs and records. @default LOCAL_AWS.region */
  readonly region?: string;
}

export interface SendMessageOptions {
  /** 0–900 seconds, fractions allowed. @default 0 */
  readonly delaySeconds?: number;
  /** Attributes in Lambda's record shape. @default none */
  readonly messageAttributes?: SQSMessageAttributes;
}

export interface SendMessageResult {
  readonly messageId: string;
  readonly md5OfBody: string;
  readonly md5OfMessageAttributes?: string;
}

export interface SendMessageBatchEntry extends SendMessageOptions {
  /** Caller's id of the entry, unique within the batch. */
  readonly id: string;
  readonly body: string;
}

export interface SendMessageBatchSuccess extends SendMessageResult {
  readonly id: string;
}

/** An entry SQS refused on its own; `code` is SQS's error code. */
export interface SendMessageBatchFailure {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

export interface SendMessageBatchResult {
  readonly successful: readonly SendMessageBatchSuccess[];
  readonly failed: readonly SendMessageBatchFailure[];
}

/** What a delete or change-visibility request did. */
export type ReceiptHandleOutcome = 'applied' | 'stale' | 'not-in-flight';

/** Counters for the run summary. */
export interface LocalQueueStats {
  readonly sent: number;
  /** Messages handed out by receives, duplicates included. */
  readonly deliveries: number;
  readonly deleted: number;
  /** Messages moved to the dead-letter queue. */
  readonly redriven: number;
  readonly visibilityChanges: number;
  readonly duplicatesInjected: number;
  /** Deletes and visibility changes ignored because their receipt handle was stale. */
  readonly staleReceiptHandles: number;
}

/** Approximate message counts, as SQS reports them in its queue attributes. */
export interface LocalQueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

interface StoredMessage {
  readonly entryId: number;
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: SQSMessageAttributes;
  readonly sentAt: number;
  readonly isInjectedCopy: boolean;
  readonly deadLetterSourceArn?: string;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const requireRange = (setting: string, value: number, min: number, max: number) => {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new InvalidSettingError(setting, `a number from ${min} to ${max}`, value);
  }
};

const requireInteger = (setting: string, value: number, min: number, max: number) => {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidSettingError(setting, `an integer from ${min} to ${max}`, value);
  }
};

const requireBody = (body: string) => {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : 0;
  if (bytes > 0 && bytes <= MAX_MESSAGE_BYTES) return;

  const received = typeof body === 'string' ? `${bytes} bytes` : body;
  throw new InvalidSettingError(
    'MessageBody',
    `a non-empty string of at most ${MAX_MESSAGE_BYTES} bytes`,
    received,
  );
};

/**
 * One emulated SQS standard queue. Messages are handed out oldest first;
 * a message whose visibility timeout expired comes back before newer ones.
 */
export class LocalQueue {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly visibilityTimeoutMs: number;

  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly duplicateRate: number;
  private readonly redrivePolicy: RedrivePolicy | undefined;
  private readonly messages = new Map<number, StoredMessage>();
  private readonly waiters = new Set<() => void>();
  private readonly counters: Mutable<LocalQueueStats> = {
    sent: 0,
    deliveries: 0,
    deleted: 0,
    redriven: 0,
    visibilityChanges: 0,
    duplicatesInjected: 0,
    staleReceiptHandles: 0,
  };
  private nextEntryId = 1;
  private nextReceiveSerial = 1;

  constructor(options: LocalQueueOptions) {
    if (!QUEUE_NAME_PATTERN.test(options.name)) {
      throw new InvalidSettingError('name', '1-80 letters, digits, "-" or "_"', options.name);
    }
    const visibilityTimeoutSeconds =
      options.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_TIMEOUT_SECONDS;
    requireRange(
      'visibilityTimeoutSeconds',
      visibilityTimeoutSeconds,
      0,
      MAX_VISIBILITY_TIMEOUT_SECONDS,
    );
    this.duplicateRate = options.duplicateRate ?? 0;
    requireRange('duplicateRate', this.duplicateRate, 0, 1);
    if (options.redrivePolicy) {
      requireInteger(
        'redrivePolicy.maxReceiveCount',
        options.redrivePolicy.maxReceiveCount,
        1,
        MAX_RECEIVE_COUNT_LIMIT,
      );
    }

    this.name = options.name;
    this.region = options.region ?? LOCAL_AWS.region;
    this.arn = `arn:aws:sqs:${this.region}:${LOCAL_ACCOUNT_ID}:${options.name}`;
    this.visibilityTimeoutMs = visibilityTimeoutSeconds * 1000;
    this.redrivePolicy = options.redrivePolicy;
    this.clock = options.clock ?? systemClock;
    this.random = seededRandom(options.seed ?? 1);
  }

  /** Enqueues one message, hidden for `delaySeconds` first. */
  sendMessage(body: string, options: SendMessageOptions = {}): SendMessageResult {
    requireBody(body);
    const delaySeconds = options.delaySeconds ?? 0;
    requireRange('DelaySeconds', delaySeconds, 0, MAX_DELAY_SECONDS);

    const now = this.clock();
    const message = this.store({
      messageId: randomUUID(),
      body,
      md5OfBody: md5OfBody(body),
      messageAttributes: normaliseMessageAttributes(options.messageAttributes),
      sentAt: now,
      isInjectedCopy: false,
      visibleAt: now + delaySeconds * 1000,
      receiveCount: 0,
    });
    this.counters.sent += 1;
    this.notifyWaiters();

    return this.sendResult(message);
  }

  /**
   * Enqueues up to ten messages. Like SQS, a malformed entry fails on its own
   * while the others are sent; a malformed request (no entries, more than ten,
   * repeated ids) throws.
   */
  sendMessageBatch(entries: readonly SendMessageBatchEntry[]): SendMessageBatchResult {
    requireInteger('Entries.length', entries.length, 1, MAX_BATCH_ENTRIES);
    const ids = new Set(entries.map((entry) => entry.id));
    if (ids.size !== entries.length) {
      throw new InvalidSettingError('Entries[].Id', 'distinct within the batch', [
        ...entries.map((entry) => entry.id),
      ]);
    }

    const successful: SendMessageBatchSuccess[] = [];
    const failed: SendMessageBatchFailure[] = [];
    for (const entry of entries) {
      try {
        successful.push({ id: entry.id, ...this.sendMessage(entry.body, entry) });
      } catch (error) {
        if (!(error instanceof InvalidSettingError)) throw error;
        failed.push({ id: entry.id, code: 'InvalidParameterValue', message: error.message });
      }
    }

    return { successful, failed };
  }

  /**
   * Receives up to `maxMessages` visible messages as Lambda-shaped records,
   * waiting up to `waitTimeMs` (wall-clock) for one to appear, like long
   * polling. Each received message is hidden for the visibility timeout and
   * gets a fresh receipt handle; a message already received
   * `maxReceiveCount` times moves to the dead-letter queue instead.
   */
  async receiveMessages(
    maxMessages = 1,
    waitTimeMs = 0,
    signal?: AbortSignal,
  ): Promise<SQSRecord[]> {
    requireInteger('MaxNumberOfMessages', maxMessages, 1, MAX_MESSAGES_PER_RECEIVE);
    requireRange('waitTimeMs', waitTimeMs, 0, MAX_RECEIVE_WAIT_MS);

    const deadline = Date.now() + waitTimeMs;
    for (;;) {
      const records = this.takeVisible(maxMessages);
      const remainingMs = deadline - Date.now();
      if (records.length > 0 || remainingMs <= 0 || signal?.aborted) return records;

      await this.waitForChange(Math.min(remainingMs, this.msUntilNextVisible()), signal);
    }
  }

  /** Deletes the message this receipt handle was issued for, unless the handle is stale. */
  deleteMessage(receiptHandle: string): ReceiptHandleOutcome {
    const message = this.currentHolder(receiptHandle);
    if (!message) return 'stale';

    this.messages.delete(message.entryId);
    this.counters.deleted += 1;

    return 'applied';
  }

  /**
   * Hides a received message for `seconds` from now; 0 makes it visible at
   * once. Ignored for a stale handle; refused ('not-in-flight') when the
   * message's visibility already expired, as SQS answers `MessageNotInflight`.
   */
  changeMessageVisibility(receiptHandle: string, seconds: number): ReceiptHandleOutcome {
    requireRange('VisibilityTimeout', seconds, 0, MAX_VISIBILITY_TIMEOUT_SECONDS);
    const message = this.currentHolder(receiptHandle);
    if (!message) return 'stale';
    const now = this.clock();
    if (message.visibleAt <= now) return 'not-in-flight';

    message.visibleAt = now + seconds * 1000;
    this.counters.visibilityChanges += 1;
    if (seconds === 0) this.notifyWaiters();

    return 'applied';
  }

  /** Whether this queue issued the receipt handle (stale or not). */
  issued(receiptHandle: string): boolean {
    return this.parseReceiptHandle(receiptHandle) !== undefined;
  }

  stats(): LocalQueueStats {
    return { ...this.counters };
  }

  depth(): LocalQueueDepth {
    const now = this.clock();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) visible += 1;
      else if (message.receiptHandle === undefined) delayed += 1;
      else inFlight += 1;
    }

    return { visible, inFlight, delayed };
  }

  /** True when no message is left: none visible, in flight or delayed. */
  isEmpty(): boolean {
    return this.messages.size === 0;
  }

  private store(fields: Omit<StoredMessage, 'entryId'>): StoredMessage {
    const message = { ...fields, entryId: this.nextEntryId++ };
    this.messages.set(message.entryId, message);

    return message;
  }

  private sendResult(message: StoredMessage): SendMessageResult {
    const attributesMd5 = md5OfMessageAttributes(message.messageAttributes);

    return {
      messageId: message.messageId,
      md5OfBody: message.md5OfBody,
      ...(attributesMd5 === undefined ? {} : { md5OfMessageAttributes: attributesMd5 }),
    };
  }

  private takeVisible(maxMessages: number): SQSRecord[] {
    const now = this.clock();
    const records: SQSRecord[] = [];
    const copies: StoredMessage[] = [];
    for (const message of this.messages.values()) {
      if (records.length >= maxMessages) break;
      if (message.visibleAt > now) continue;
      if (this.exceedsReceiveCount(message)) {
        this.redrive(message);
        continue;
      }

      if (this.shouldDuplicate(message)) copies.push(message);
      records.push(this.deliver(message, now));
    }

    for (const original of copies) this.injectCopy(original, now);

    return records;
  }

  private exceedsReceiveCount(message: StoredMessage): boolean {
    return (
      this.redrivePolicy !== undefined && message.receiveCount >= this.redrivePolicy.maxReceiveCount
    );
  }

  private redrive(message: StoredMessage) {
    this.messages.delete(message.entryId);
    this.counters.redriven += 1;
    this.redrivePolicy?.queue.acceptRedriven(message, this.arn);
  }

  private acceptRedriven(message: StoredMessage, sourceArn: string) {
    this.store({
      messageId: message.messageId,
      body: message.body,
      md5OfBody: message.md5OfBody,
      messageAttributes: message.messageAttributes,
      sentAt: message.sentAt,
      isInjectedCopy: false,
      deadLetterSourceArn: sourceArn,
      visibleAt: this.clock(),
      receiveCount: 0,
    });
    this.notifyWaiters();
  }

  private shouldDuplicate(message: StoredMessage): boolean {
    return !message.isInjectedCopy && this.duplicateRate > 0 && this.random() < this.duplicateRate;
  }

  private injectCopy(original: StoredMessage, now: number) {
    this.store({
      messageId: original.messageId,
      body: original.body,
      md5OfBody: original.md5OfBody,
      messageAttributes: original.messageAttributes,
      sentAt: original.sentAt,
      isInjectedCopy: true,
      deadLetterSourceArn: original.deadLetterSourceArn,
      visibleAt: now,
      receiveCount: original.receiveCount - 1,
      firstReceivedAt: original.firstReceivedAt,
    });
    this.counters.duplicatesInjected += 1;
    this.notifyWaiters();
  }

  private deliver(message: StoredMessage, now: number): SQSRecord {
    message.receiveCount += 1;
    message.firstReceivedAt ??= now;
    message.visibleAt = now + this.visibilityTimeoutMs;
    message.receiptHandle = this.issueReceiptHandle(message);
    this.counters.deliveries += 1;

    return this.toRecord(message, message.receiptHandle);
  }

  private toRecord(message: StoredMessage, receiptHandle: string): SQSRecord {
    const attributesMd5 = md5OfMessageAttributes(message.messageAttributes);

    return {
      messageId: message.messageId,
      receiptHandle,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: LOCAL_SENDER_ID,
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
        ...(message.deadLetterSourceArn
          ? { DeadLetterQueueSourceArn: message.deadLetterSourceArn }
          : {}),
      },
      messageAttributes: structuredClone(message.messageAttributes),
      md5OfBody: message.md5OfBody,
      ...(attributesMd5 === undefined ? {} : { md5OfMessageAttributes: attributesMd5 }),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: this.region,
    };
  }

  private issueReceiptHandle(message: StoredMessage): string {
    const serial = this.nextReceiveSerial++;

    return Buffer.from(`${this.name}\n${message.entryId}\n${serial}`, 'utf8').toString('base64url');
  }

  private parseReceiptHandle(receiptHandle: string): number | undefined {
    if (typeof receiptHandle !== 'string') return undefined;
    const parts = Buffer.from(receiptHandle, 'base64url').toString('utf8').split('\n');
    if (parts.length !== 3 || parts[0] !== this.name) return undefined;
    const entryId = Number(parts[1]);

    return Number.isInteger(entryId) && /^\d+$/.test(parts[2] ?? '') ? entryId : undefined;
  }

  /** The message whose latest receive issued this handle, or undefined when the handle is stale. */
  private currentHolder(receiptHandle: string): StoredMessage | undefined {
    const entryId = this.parseReceiptHandle(receiptHandle);
    if (entryId === undefined)
      throw new ReceiptHandleInvalidError(this.name, String(receiptHandle));

    const message = this.messages.get(entryId);
    if (message?.receiptHandle === receiptHandle) return message;
    this.counters.staleReceiptHandles += 1;

    return undefined;
  }

  private msUntilNextVisible(): number {
    const now = this.clock();
    let earliest = Number.POSITIVE_INFINITY;
    for (const message of this.messages.values()) earliest = Math.min(earliest, message.visibleAt);

    return Math.max(1, Math.min(LONG_POLL_TICK_MS, earliest - now));
  }

  private waitForChange(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(finish);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  private notifyWaiters() {
    for (const wake of [...this.waiters]) wake();
  }
}

/**
 * The worker's {@link MessageQueue} port over local queues. Visibility changes
 * go to whichever of the two queues issued the receipt handle, so the same
 * port serves the worker (task queue) and the dead-letter handler. Stale
 * handles and messages no longer in flight are ignored, as documented on
 * {@link LocalQueue}.
 */
export const messageQueuePort = (queue: LocalQueue, deadLetterQueue: LocalQueue): MessageQueue => ({
  changeVisibility: async (receiptHandle, seconds) => {
    const owner = deadLetterQueue.issued(receiptHandle) ? deadLetterQueue : queue;
    owner.changeMessageVisibility(receiptHandle, seconds);
  },
  sendToDeadLetter: async (body, reason) => {
    deadLetterQueue.sendMessage(body, {
      messageAttributes: { [DEAD_LETTER_REASON_ATTRIBUTE]: stringAttribute(reason) },
    });
  },
});

/** The submission's {@link TaskSender} port over a local queue, ten messages per batch. */
export const taskSenderPort = (queue: LocalQueue): TaskSender => ({
  sendTasks: async (tasks) => {
    for (let start = 0; start < tasks.length; start += MAX_BATCH_ENTRIES) {
      const batch = tasks.slice(start, start + MAX_BATCH_ENTRIES);
      const result = queue.sendMessageBatch(
        batch.map((task, index) => ({ id: String(index), body: formatTaskMessage(task) })),
      );
      const firstFailure = result.failed[0];
      if (firstFailure) {
        throw new MessageSendFailedError(queue.name, result.failed.length, firstFailure.message);
      }
    }
  },
});
