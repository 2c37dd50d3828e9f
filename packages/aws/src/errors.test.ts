import { describe, expect, it } from 'vitest';
import { awsError } from './errors.js';
import { s3Location } from './upload.js';

const call = { action: 'codebuild:StartBuild', resource: 'CodeBuild project `builds`' };
const sdkError = (name: string, message: string, status = 400) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('awsError', () => {
  it('names the missing permission from the message, or the call', () => {
    const denied = awsError(
      sdkError(
        'AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: codebuild:StartBuild on resource: arn:aws:codebuild:eu-west-1:123456789012:project/builds',
      ),
      call,
    );
    expect(denied.code).toBe('NOT_AVAILABLE');
    expect(denied.message).toMatch(/Grant it `codebuild:StartBuild`/);
    expect(
      awsError(sdkError('AccessDenied', 'Access Denied', 403), {
        action: 's3:PutObject',
        resource: 's3://b/k',
      }).message,
    ).toMatch(/Grant it `s3:PutObject`/);
  });

  it('tells refused credentials, missing credentials, missing buckets and throttling apart', () => {
    expect(
      awsError(sdkError('UnrecognizedClientException', 'The security token is invalid.'), call).message,
    ).toMatch(/AWS refused the credentials/);
    expect(
      awsError(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'), call)
        .message,
    ).toMatch(/No AWS credentials were found/);
    expect(
      awsError(sdkError('NoSuchBucket', 'The specified bucket does not exist', 404), {
        action: 's3:PutObject',
        resource: 's3://b/k',
      }).message,
    ).toMatch(/the bucket does not exist/);
    const throttled = awsError(sdkError('ThrottlingException', 'Rate exceeded'), call);
    expect(throttled.message).toMatch(/kept throttling/);
    expect(throttled.cause).toBeInstanceOf(Error);
  });

  it('keeps the SDK message for anything else, as a build failure', () => {
    const other = awsError(sdkError('InvalidInputException', 'Invalid compute type'), call);
    expect(other.code).toBe('BUILD_FAILED');
    expect(other.message).toBe(
      'codebuild:StartBuild on CodeBuild project `builds` failed: InvalidInputException: Invalid compute type',
    );
  });
});

describe('s3Location', () => {
  it('joins the store prefix and the key', () => {
    expect(s3Location('s3://bucket/zenml', 'code-build-contexts', 'abc.zip')).toEqual({
      bucket: 'bucket',
      key: 'zenml/code-build-contexts/abc.zip',
    });
    expect(s3Location('s3://bucket', 'x.zip')).toEqual({ bucket: 'bucket', key: 'x.zip' });
  });
});
