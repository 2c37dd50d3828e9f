import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, readBody } from '../http.js';
import { FakeCodeBuild, type FakeCodeBuildOptions, ServiceError } from './codebuild.js';
import { FakeS3 } from './s3.js';

export interface FakeAws {
  endpoint: string;
  region: string;
  s3: FakeS3;
  codebuild: FakeCodeBuild;
  /** Requests the fake refused for their signature, for tests of credentials. */
  rejected: string[];
  /** Calls still to be throttled, by operation; tests add to it. */
  throttle: Record<string, number>;
  close(): Promise<void>;
}

export interface FakeAwsOptions extends Omit<FakeCodeBuildOptions, 's3' | 'region'> {
  region?: string;
  buckets?: string[];
  /** Access key ids the fake accepts; others get `UnrecognizedClientException` / `InvalidAccessKeyId`. */
  accessKeys?: string[];
  /** ECR repositories that exist, as `<account>/<name>` (DescribeRepositories). */
  ecrRepositories?: string[];
  /** Answer the next N calls of an operation (e.g. `StartBuild`) with `ThrottlingException`. */
  throttle?: Record<string, number>;
}

/** Which signing name each JSON target prefix belongs to. */
const JSON_SERVICES: Record<string, string> = {
  CodeBuild_20161006: 'codebuild',
  Logs_20140328: 'logs',
  AmazonEC2ContainerRegistry_V20150921: 'ecr',
};

/**
 * CodeBuild, CloudWatch Logs and S3 on one loopback port, as LocalStack does: JSON 1.1 services are
 * told apart by `X-Amz-Target`, everything else is S3 (path style). Each request must carry a SigV4
 * `Authorization` whose credential scope names this region and the right service, so a client
 * configured for another service or region fails here as it would against AWS.
 */
export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  const region = options.region ?? 'us-east-1';
  const s3 = new FakeS3();
  for (const bucket of options.buckets ?? []) s3.createBucket(bucket);
  const codebuild = new FakeCodeBuild({ ...options, s3, region });
  const rejected: string[] = [];
  const accessKeys = options.accessKeys ?? ['AKIDFAKE'];
  const throttle: Record<string, number> = { ...(options.throttle ?? {}) };

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (!body) return;
    const target = String(req.headers['x-amz-target'] ?? '');
    const service = target ? JSON_SERVICES[target.split('.')[0] ?? ''] : 's3';
    const problem = signatureProblem(req, region, service, accessKeys);
    if (problem) {
      rejected.push(`${target || `${req.method} ${req.url}`}: ${problem.message}`);
      if (service === 's3') return s3Error(res, 403, problem.s3Code, problem.message);
      return jsonError(res, new ServiceError(problem.jsonType, problem.message, 403));
    }
    try {
      if (service === 's3') return await s3.handle(req, res, body);
      if (!service) throw new ServiceError('UnknownOperationException', `Unknown target ${target}`);
      const operation = target.split('.')[1] ?? '';
      const throttled = throttle[operation] ?? 0;
      if (throttled > 0) {
        throttle[operation] = throttled - 1;
        throw new ServiceError('ThrottlingException', 'Rate exceeded');
      }
      const request = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
      const reply =
        service === 'ecr'
          ? describeRepositories(request, options.ecrRepositories ?? [], region)
          : codebuild.handle(target, request);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(reply));
    } catch (error) {
      if (error instanceof ServiceError) return jsonError(res, error);
      jsonError(res, new ServiceError('InternalFailure', (error as Error).stack ?? String(error), 500));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    s3,
    codebuild,
    rejected,
    throttle,
    close: async () => {
      await codebuild.settled();
      await closeServer(server);
    },
  };
}

function signatureProblem(
  req: IncomingMessage,
  region: string,
  service: string | undefined,
  accessKeys: string[],
): { message: string; jsonType: string; s3Code: string } | undefined {
  const auth = String(req.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(
      auth,
    );
  if (!match)
    return {
      message: 'Missing or malformed SigV4 Authorization header',
      jsonType: 'MissingAuthenticationTokenException',
      s3Code: 'AccessDenied',
    };
  const [, key, scopeRegion, scopeService] = match;
  if (!accessKeys.includes(key ?? '')) {
    return {
      message: 'The security token included in the request is invalid.',
      jsonType: 'UnrecognizedClientException',
      s3Code: 'InvalidAccessKeyId',
    };
  }
  if (scopeRegion !== region || scopeService !== service) {
    return {
      message: `Credential should be scoped to a valid region and service (${region}/${service}), not ${scopeRegion}/${scopeService}.`,
      jsonType: 'InvalidSignatureException',
      s3Code: 'AuthorizationHeaderMalformed',
    };
  }
  return undefined;
}

function jsonError(res: ServerResponse, error: ServiceError): void {
  res.writeHead(error.status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomUUID(),
  });
  res.end(JSON.stringify({ __type: error.type, message: error.message }));
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

/** ECR's DescribeRepositories for named repositories: all found, or RepositoryNotFoundException. */
function describeRepositories(
  body: { registryId?: string; repositoryNames?: string[] },
  known: string[],
  region: string,
) {
  const account = body.registryId ?? '000000000000';
  const names = body.repositoryNames ?? [];
  const missing = names.find((name) => !known.includes(`${account}/${name}`));
  if (missing) {
    throw new ServiceError(
      'RepositoryNotFoundException',
      `The repository with name '${missing}' does not exist in the registry with id '${account}'`,
    );
  }
  return {
    repositories: names.map((name) => ({
      repositoryName: name,
      registryId: account,
      repositoryArn: `arn:aws:ecr:${region}:${account}:repository/${name}`,
      repositoryUri: `${account}.dkr.ecr.${region}.amazonaws.com/${name}`,
    })),
  };
}
