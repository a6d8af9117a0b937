import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RUN_COMPLETED_EVENT } from '../../lib/events';
import { EventPublishError } from '../domain/errors';
import type { RunCompletedDetail, RunEventPublisher } from '../domain/ports';

/** Publishes `RunCompleted` on an EventBridge bus. */
export class EventBridgePublisher implements RunEventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publishRunCompleted(detail: RunCompletedDetail): Promise<void> {
    let response;
    try {
      response = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.eventBusName,
              Source: RUN_COMPLETED_EVENT.source,
              DetailType: RUN_COMPLETED_EVENT.detailType,
              Detail: JSON.stringify(detail),
              Resources: [],
            },
          ],
        }),
      );
    } catch (error) {
      throw new EventPublishError(detail.runId, 'the request failed', { cause: error });
    }
    // PutEvents reports per-entry failures in a successful response.
    if ((response.FailedEntryCount ?? 0) > 0) {
      const entry = response.Entries?.[0];
      throw new EventPublishError(detail.runId, `${entry?.ErrorCode}: ${entry?.ErrorMessage}`);
    }
  }
}
