/** A clone must not be production (DESIGN.md §Targets and proofs): compared by database identity. */
export function isolationProblem(productionIdentity: string, cloneIdentity: string): string | undefined {
  if (!productionIdentity || !cloneIdentity) return 'a target has no database identity, so isolation cannot be shown';
  return productionIdentity === cloneIdentity ? `the clone has production's database identity ${productionIdentity}; refusing to rehearse on production` : undefined;
}
