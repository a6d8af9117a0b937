import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ResultStoreError } from '../domain/errors';
import type { ResultStore } from '../domain/ports';

/** Results in an S3 bucket, one object per deterministic key. */
export class S3ResultStore implements ResultStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string | undefined): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
        }),
      );
    } catch (error) {
      throw new ResultStoreError(key, { cause: error });
    }
  }
}
