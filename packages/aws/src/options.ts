import {
  type BuildOptions,
  type RemoteBuildSecret,
  remoteBuildSecrets,
  remoteDockerBuildFlags,
  remoteSecretFlags,
} from '@zenbuild/core/backend';

/**
 * The `docker build` flags of the options, mapped explicitly. What a CodeBuild docker cannot honour is
 * refused before anything is uploaded.
 */
export function dockerBuildFlags(options: BuildOptions): string[] {
  const why = 'CodeBuild runs a Linux docker without experimental features';
  return [
    ...remoteDockerBuildFlags(options, 'aws', { squash: why, isolation: why }),
    ...remoteSecretFlags(codeBuildSecrets(options)),
  ];
}

/**
 * The build's secrets, which CodeBuild reads from Secrets Manager or Parameter Store into the build's
 * variables (`environmentVariablesOverride` of type SECRETS_MANAGER / PARAMETER_STORE): never a value
 * in the buildspec or the StartBuild request.
 */
export function codeBuildSecrets(options: BuildOptions): RemoteBuildSecret[] {
  return remoteBuildSecrets(options, 'aws', {
    accepts: (source) => 'awsSecretsManager' in source || 'awsParameterStore' in source,
    names: 'Secrets Manager (`aws-secretsmanager:SECRET`) or Parameter Store (`aws-ssm:PARAMETER`)',
  });
}
