import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { describeStackOutputs } from '../../cli/backend';
import { MissingCredentialsError, StackLookupError, StackNotFoundError } from '../../cli/errors';
import { STACK_OUTPUT } from '../../lib/stack-outputs';

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('describeStackOutputs', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  const client = new CloudFormationClient({ region: 'eu-west-1' });

  afterEach(() => cloudFormation.reset());

  it('returns the outputs by key', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Conveyor' }).resolves({
      Stacks: [
        {
          StackName: 'Conveyor',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: STACK_OUTPUT.runsTableName, OutputValue: 'runs-table' }],
        },
      ],
    });

    const outputs = await describeStackOutputs(client, 'Conveyor');

    expect(outputs).toEqual({ [STACK_OUTPUT.runsTableName]: 'runs-table' });
  });

  it('says the stack is missing, with its name and region', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id Nope does not exist'));

    const lookup = describeStackOutputs(client, 'Nope');

    await expect(lookup).rejects.toBeInstanceOf(StackNotFoundError);
    await expect(lookup).rejects.toThrow(/Stack "Nope" was not found in eu-west-1/);
  });

  it('says credentials are missing when the provider chain finds none', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        awsError('CredentialsProviderError', 'Could not load credentials from any providers'),
      );

    const lookup = describeStackOutputs(client, 'Conveyor');

    await expect(lookup).rejects.toBeInstanceOf(MissingCredentialsError);
    await expect(lookup).rejects.toThrow(/No AWS credentials found for --stack/);
  });

  it('wraps any other failure with the stack name and the cause', async () => {
    const cause = awsError('AccessDenied', 'not allowed');
    cloudFormation.on(DescribeStacksCommand).rejects(cause);

    const lookup = describeStackOutputs(client, 'Conveyor');

    await expect(lookup).rejects.toBeInstanceOf(StackLookupError);
    await expect(lookup).rejects.toMatchObject({ cause });
  });
});
