import type {
  DomainLogger,
  FetchedPage,
  FetchPage,
  MessageQueue,
  MetricSink,
  ResultStore,
  RunCompletedDetail,
  RunEventPublisher,
} from '../../lambdas/domain/ports';
import type { MetricName } from '../../lambdas/metrics';

/** A message queue port that records what the domain asked of it. */
export class RecordingQueue implements MessageQueue {
  readonly visibilityChanges: { receiptHandle: string; seconds: number }[] = [];
  readonly deadLettered: { body: string; reason: string }[] = [];

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    this.visibilityChanges.push({ receiptHandle, seconds });
  }

  async sendToDeadLetter(body: string, reason: string): Promise<void> {
    this.deadLettered.push({ body, reason });
  }
}

export class MemoryResultStore implements ResultStore {
  readonly objects = new Map<string, { body: Uint8Array; contentType?: string }>();
  puts = 0;

  async put(key: string, body: Uint8Array, contentType: string | undefined): Promise<void> {
    this.puts += 1;
    this.objects.set(key, { body, contentType });
  }
}

export class CountingMetrics implements MetricSink {
  readonly counts = new Map<MetricName, number>();

  count(name: MetricName, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  milliseconds(): void {}

  get(name: MetricName): number {
    return this.counts.get(name) ?? 0;
  }
}

export class RecordingPublisher implements RunEventPublisher {
  readonly published: RunCompletedDetail[] = [];

  async publishRunCompleted(detail: RunCompletedDetail): Promise<void> {
    this.published.push(detail);
  }
}

/** A fetch that answers every URL with a small page after `delayMs`, counting calls. */
export const fakeFetch = (
  options: { delayMs?: number; fail?: (url: string) => Error | undefined } = {},
): FetchPage & { calls: string[] } => {
  const calls: string[] = [];
  const fetchPage = async (url: string): Promise<FetchedPage> => {
    calls.push(url);
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    const failure = options.fail?.(url);
    if (failure) throw failure;

    return {
      status: 200,
      body: Buffer.from(`<p>${url}</p>`),
      contentType: 'text/html',
      finalUrl: url,
    };
  };

  return Object.assign(fetchPage, { calls });
};

/** An error shaped like the gateway's permanent and retryable failures. */
export const gatewayFailure = (message: string, retryable: boolean): Error =>
  Object.assign(new Error(message), {
    name: retryable ? 'FetchTimeoutError' : 'PermanentStatusError',
    retryable,
  });

export const quietLogger: DomainLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
