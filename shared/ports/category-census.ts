/** What a dry run asks of the meter types: which of some categories have any. */

/** Tells which categories some meter type has. */
export interface CategoryCensus {
  /** The categories among these that at least one meter type has. */
  categoriesInUse(categories: readonly string[]): Promise<ReadonlySet<string>>;
}
