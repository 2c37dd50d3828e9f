import { type BuildOptions, remoteDockerBuildFlags } from '@zenbuild/core/backend';

/**
 * The `docker build` flags of the options, mapped explicitly. What a CodeBuild docker cannot honour is
 * refused before anything is uploaded.
 */
export function dockerBuildFlags(options: BuildOptions): string[] {
  const why = 'CodeBuild runs a Linux docker without experimental features';
  return remoteDockerBuildFlags(options, 'aws', {
    squash: why,
    isolation: why,
    secrets: 'zenbuild does not pass build secrets to CodeBuild yet',
  });
}
