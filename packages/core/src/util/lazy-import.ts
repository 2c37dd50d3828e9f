/**
 * A module loaded on first use and once: the backends' large dependencies (execa, dockerode, cloud SDKs)
 * cost a run that never needs them (a plan, a reuse hit) nothing. A failed load is tried again next time.
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
