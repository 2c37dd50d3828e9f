import type { BuildPlan, PlannedImage } from './plan.js';

/**
 * The plan as a JSON document: per image the same fields a pipeline-build record has (`image`, `digest`,
 * `tag`, `dockerfile`, `requirements`, `settingsChecksum`, `containsCode`), plus the decision and why.
 * Generated file contents are left out of the build list (they are the Dockerfile and requirements above);
 * each build's context hash is given when the caller computed it.
 */
export function describePlan(
  plan: BuildPlan,
  contextHashes: Record<string, string> = {},
): Record<string, unknown> {
  const images: Record<string, unknown> = {};
  for (const [key, image] of Object.entries(plan.images)) images[key] = describeImage(image);
  return {
    pipeline: plan.pipeline,
    stack: plan.stack,
    sourceRoot: plan.sourceRoot,
    settingsChecksum: plan.settingsChecksum,
    steps: plan.steps,
    images,
    builds: plan.builds.map((b) => ({
      id: b.id,
      key: b.key,
      role: b.role,
      imageName: b.imageName,
      parentImage: b.parentImage ?? null,
      pulls: b.pulls,
      context: {
        root: b.context.root ?? null,
        dockerignore: b.context.dockerignore ?? null,
        generatedFiles: b.context.files.map((f) => f.path),
        hash: contextHashes[b.id] ?? null,
      },
      options: b.options,
      pullPolicy: b.pullPolicy,
      push: b.push,
      dependsOn: b.dependsOn,
    })),
    warnings: plan.warnings,
  };
}

/**
 * An image as a pipeline-build record holds it, with the decision and why. An image that uses another's
 * (`sameAs`: steps with equal settings) says which, the image its step runs and why, and leaves out all
 * it shares with that one, said once under its key: a 2,000-step pipeline over 5 distinct settings
 * would repeat each Dockerfile 400 times.
 */
function describeImage(image: PlannedImage): Record<string, unknown> {
  if (image.sameAs) {
    return {
      image: image.image,
      settingsChecksum: image.settingsChecksum,
      step: image.step ?? null,
      decision: image.decision,
      reason: image.reason,
      sameAs: image.sameAs,
      builds: image.builds,
    };
  }
  return {
    image: image.image,
    digest: null,
    tag: image.tag ?? null,
    dockerfile: image.dockerfile ?? null,
    requirements: image.requirements ?? null,
    settingsChecksum: image.settingsChecksum,
    containsCode: image.containsCode,
    requiresCodeDownload: image.requiresCodeDownload,
    codeFrom: image.codeFrom,
    step: image.step ?? null,
    decision: image.decision,
    reason: image.reason,
    parentImage: image.parentImage ?? null,
    requirementFiles: image.requirementFiles.map((f) => ({ name: f.name, source: f.source })),
    aptPackages: image.aptPackages,
    buildOptions: image.buildOptions,
    sameAs: null,
    builds: image.builds,
  };
}
