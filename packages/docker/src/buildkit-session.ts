import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import {
  type ByteProgressListener,
  type ContextFile,
  lazyImport,
  type RegistryCredentials,
} from '@zenbuild/core/backend';
import type Docker from 'dockerode';
import { DIFF_COPY_METHOD, diffCopyHandler, FILESYNC_SCHEMA } from './buildkit-filesync.js';

/**
 * What a BuildKit build may ask of its client during the build: registry credentials for a host (the
 * pulls of FROM images), and the value of a build secret by id.
 */
export interface SessionProviders {
  credentials(host: string): Promise<RegistryCredentials | undefined>;
  secret(id: string): Promise<Buffer | undefined>;
  /** The build context, sent file by file (FileSync), for a build with `remote=client-session`. */
  context?: () => ContextFile[];
  /** Hears the bytes of the context's files sent (only what the daemon asked for). */
  onSent?: ByteProgressListener;
  /** Hears why sending the context failed (a file changed after planning). */
  onContextError?: (error: unknown) => void;
  /**
   * Names the daemon's copy of the context between builds: the same key, and only what changed is sent
   * again (as the docker CLI keys it by the context directory).
   */
  sharedKey?: string;
}

export interface BuildkitSession {
  id: string;
  close(): void;
}

/**
 * The gRPC services of a BuildKit session, as the daemon calls them on the connection the client opens
 * with POST /session (an h2c upgrade; the client is the gRPC server). Paths and messages are BuildKit's:
 * session/auth/auth.proto (moby.filesync.v1.Auth), session/secrets/secrets.proto
 * (moby.buildkit.secrets.v1.Secrets), and grpc.health.v1.Health, which the daemon polls every few
 * seconds and drops the session after two failures.
 */
const SESSION_SCHEMA = {
  nested: {
    CredentialsRequest: { fields: { Host: { type: 'string', id: 1 } } },
    CredentialsResponse: {
      fields: { Username: { type: 'string', id: 1 }, Secret: { type: 'string', id: 2 } },
    },
    GetSecretRequest: {
      fields: {
        ID: { type: 'string', id: 1 },
        annotations: { keyType: 'string', type: 'string', id: 2 },
      },
    },
    GetSecretResponse: { fields: { data: { type: 'bytes', id: 1 } } },
    HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
    HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
    ...FILESYNC_SCHEMA,
  },
};

const METHODS = {
  credentials: '/moby.filesync.v1.Auth/Credentials',
  secret: '/moby.buildkit.secrets.v1.Secrets/GetSecret',
  health: '/grpc.health.v1.Health/Check',
  diffCopy: DIFF_COPY_METHOD,
} as const;

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

export const loadSessionKit = lazyImport(async () => {
  const [grpcNamespace, { default: protobuf }] = await Promise.all([
    import('@grpc/grpc-js'),
    import('protobufjs/light.js'),
  ]);
  // The CommonJS exports object, not the namespace's named exports: loading dockerode may have put a
  // stand-in for grpc-js in require's cache (load-dockerode.ts), whose exports only the object forwards.
  const grpcModule =
    (grpcNamespace as unknown as { default?: typeof grpcNamespace }).default ?? grpcNamespace;
  const root = protobuf.Root.fromJSON(SESSION_SCHEMA);
  // A method of a service built from the message types, without .proto files to ship.
  const method = (
    path: string,
    request: string,
    response: string,
    streaming = false,
  ): grpc.MethodDefinition<object, object> => {
    const req = root.lookupType(request);
    const res = root.lookupType(response);
    return {
      path,
      requestStream: streaming,
      responseStream: streaming,
      requestSerialize: (value) => Buffer.from(req.encode(req.fromObject(value)).finish()),
      requestDeserialize: (bytes) => req.toObject(req.decode(bytes)),
      responseSerialize: (value) => Buffer.from(res.encode(res.fromObject(value)).finish()),
      responseDeserialize: (bytes) => res.toObject(res.decode(bytes)),
    };
  };
  return {
    grpc: grpcModule,
    services: {
      auth: { Credentials: method(METHODS.credentials, 'CredentialsRequest', 'CredentialsResponse') },
      secrets: { GetSecret: method(METHODS.secret, 'GetSecretRequest', 'GetSecretResponse') },
      health: { Check: method(METHODS.health, 'HealthCheckRequest', 'HealthCheckResponse') },
      fileSync: { DiffCopy: method(METHODS.diffCopy, 'Packet', 'Packet', true) },
    },
  };
});

/**
 * Opens a session on the daemon and serves the providers on it until `close()`. The build names it with
 * `session=<id>`. Nothing of a secret goes into a header, a query or a file: values travel only as
 * gRPC answers on the daemon's own connection.
 */
export async function openBuildkitSession(
  docker: Docker,
  providers: SessionProviders,
): Promise<BuildkitSession> {
  const { grpc, services } = await loadSessionKit();
  const id = randomUUID();
  const socket = await new Promise<Duplex>((resolve, reject) => {
    docker.modem.dial(
      {
        method: 'POST',
        path: '/session',
        hijack: true,
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'zenbuild',
          'X-Docker-Expose-Session-Sharedkey': providers.sharedKey ?? '',
          // The methods the session serves; BuildKit asks only for those.
          'X-Docker-Expose-Session-Grpc-Method': Object.values(METHODS).filter(
            (path) => path !== METHODS.diffCopy || providers.context,
          ),
        },
        statusCodes: { 101: true, 200: true, 500: 'server error' },
      } as never,
      (error: unknown, stream: unknown) => (error ? reject(error) : resolve(stream as Duplex)),
    );
  });
  const server = new grpc.Server();
  server.addService(services.auth, {
    Credentials: unaryHandler(grpc, async ({ Host }: { Host?: string }) => {
      const found = Host ? await providers.credentials(Host) : undefined;
      // An identity token goes as a secret without a user: the daemon then trades it as a refresh token
      // (the docker CLI's authprovider answers the same way).
      if (!found) return {};
      return found.identityToken
        ? { Secret: found.identityToken }
        : { Username: found.username, Secret: found.password };
    }),
  });
  server.addService(services.secrets, {
    GetSecret: unaryHandler(grpc, async ({ ID }: { ID?: string }) => {
      const value = ID ? await providers.secret(ID) : undefined;
      if (value === undefined) throw Object.assign(new Error(`secret ${ID} not found`), { code: 5 });
      return { data: value };
    }),
  });
  if (providers.context)
    server.addService(services.fileSync, {
      DiffCopy: diffCopyHandler(providers.context, providers.onSent, providers.onContextError),
    });
  server.addService(services.health, {
    Check: unaryHandler(grpc, async () => ({ status: SERVING })),
  });
  // Over TLS (DOCKER_TLS_VERIFY) the upgraded socket is a TLSSocket, which node's http2 server would
  // take for a client that did not negotiate h2 by ALPN and drop: it gets the bytes through a plain duplex.
  const connection = 'alpnProtocol' in socket ? Duplex.from({ readable: socket, writable: socket }) : socket;
  server.createConnectionInjector(grpc.ServerCredentials.createInsecure()).injectConnection(connection);
  let closed = false;
  return {
    id,
    close() {
      if (closed) return;
      closed = true;
      server.forceShutdown();
      socket.destroy();
    },
  };
}

/** A grpc-js unary handler from an async function; a thrown `code` is the gRPC status (NOT_FOUND: 5). */
function unaryHandler<Req, Res>(
  grpc: typeof import('@grpc/grpc-js'),
  handle: (request: Req) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: { code?: number; message?: string }) =>
        callback({
          code: error.code ?? grpc.status.INTERNAL,
          details: error.message ?? 'failed',
        } as grpc.ServiceError),
    );
  };
}
