/**
 * The completion event the finalizer publishes on EventBridge. Kept free of
 * CDK imports: the finalizer's bundle imports this file, the stack does too,
 * so a rule written against these values always matches what is sent.
 */

/** `source` and `detail-type` of the event published when a run completes. */
export const RUN_COMPLETED_EVENT = {
  source: 'conveyor',
  detailType: 'RunCompleted',
} as const;

/**
 * The EventBridge event pattern that matches conveyor's completion events,
 * for users who add a rule on the pipeline's bus.
 *
 * @example
 * const { source, detailType } = RUN_COMPLETED_PATTERN;
 * new Rule(stack, 'OnRunCompleted', {
 *   eventBus: pipeline.eventBus,
 *   eventPattern: { source: [...source], detailType: [...detailType] },
 * });
 */
export const RUN_COMPLETED_PATTERN = {
  source: [RUN_COMPLETED_EVENT.source],
  detailType: [RUN_COMPLETED_EVENT.detailType],
} as const;
