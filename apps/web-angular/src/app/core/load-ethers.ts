/** The ethers subset of `ethers-lite.ts`. */
export type EthersLite = typeof import('./ethers-lite');

let loading: Promise<EthersLite> | null = null;

/**
 * Loads the ethers subset on first use (a separate chunk, never in the initial bundle) and caches it.
 *
 * ```ts
 * const { verifyTypedData } = await loadEthers();
 * ```
 */
export function loadEthers(): Promise<EthersLite> {
  loading ??= import('./ethers-lite');
  loading.catch(() => (loading = null));
  return loading;
}
