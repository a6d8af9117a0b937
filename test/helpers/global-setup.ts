import { startDynamoDbLocal, type DynamoDbLocalInstance } from '../../local/dynamodb-local';

declare global {
  var conveyorDynamoDbLocal: DynamoDbLocalInstance | undefined;
}

/** Starts one DynamoDB Local for the whole jest run; test files share it. */
export default async function globalSetup(): Promise<void> {
  const instance = await startDynamoDbLocal();
  globalThis.conveyorDynamoDbLocal = instance;
  process.env.CONVEYOR_TEST_DYNAMODB_ENDPOINT = instance.endpoint;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}
