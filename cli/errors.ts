/**
 * Failures the CLI reports to the user, each saying what to do about it.
 * One class per failure mode, under the project's base class.
 */
import { ConveyorError } from '../lambdas/domain/errors';

/** The CloudFormation stack named with --stack does not exist in the account and region. */
export class StackNotFoundError extends ConveyorError {
  override readonly name = 'StackNotFoundError';

  constructor(
    readonly stackName: string,
    readonly region: string | undefined,
  ) {
    super(
      `Stack "${stackName}" was not found${region ? ` in ${region}` : ''}. Deploy it with ` +
        '"npx cdk deploy", or pass the deployed stack\'s name with --stack (and set AWS_REGION).',
    );
  }
}

/** No AWS credentials were found in the default provider chain. */
export class MissingCredentialsError extends ConveyorError {
  override readonly name = 'MissingCredentialsError';

  constructor(options: { cause: unknown }) {
    super(
      'No AWS credentials found for --stack. Configure them (aws configure, AWS_PROFILE, ' +
        'or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or drop --stack to use the local state.',
      options,
    );
  }
}

/** The stack exists but lacks an output the CLI needs. */
export class MissingStackOutputError extends ConveyorError {
  override readonly name = 'MissingStackOutputError';

  constructor(
    readonly stackName: string,
    readonly outputKey: string,
  ) {
    super(
      `Stack "${stackName}" has no output "${outputKey}"; is it a conveyor stack deployed ` +
        'from this version?',
    );
  }
}

/** The stack could not be described for a reason other than missing credentials. */
export class StackLookupError extends ConveyorError {
  override readonly name = 'StackLookupError';

  constructor(
    readonly stackName: string,
    options: { cause: unknown },
  ) {
    super(`Describing stack "${stackName}" failed: ${messageOf(options.cause)}`, options);
  }
}

/** A command-line option has a value the command cannot use. */
export class InvalidOptionError extends ConveyorError {
  override readonly name = 'InvalidOptionError';

  constructor(
    readonly option: string,
    readonly rule: string,
    readonly received: string,
  ) {
    super(`${option} must be ${rule}; got "${received}"`);
  }
}

/** A run id given on the command line has no run. */
export class RunNotFoundError extends ConveyorError {
  override readonly name = 'RunNotFoundError';

  constructor(
    readonly runId: string,
    readonly where: string,
  ) {
    super(`Run ${runId} was not found in ${where}.`);
  }
}

/** The local state folder has no database yet. */
export class NoLocalStateError extends ConveyorError {
  override readonly name = 'NoLocalStateError';

  constructor(readonly stateDir: string) {
    super(
      `No local database in ${stateDir}: run "conveyor local run --demo --keep-state" (or ` +
        '"conveyor local run FILE --keep-state") first, or pass --stack NAME for a deployed stack.',
    );
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
