import { id } from 'ethers';

/**
 * The record categories a patient can grant access to. On-chain a category is the keccak256 of its
 * name, so the chain never carries more than an opaque id.
 */
export const CATEGORY_NAMES = [
  'general',
  'lab_results',
  'imaging',
  'medications',
  'allergies',
  'immunizations',
  'vitals',
  'clinical_notes',
  'mental_health',
  'reproductive_health',
  'substance_use',
  'messaging',
  'telehealth',
] as const;

export type CategoryName = (typeof CATEGORY_NAMES)[number];

const idsByName = new Map<string, string>(CATEGORY_NAMES.map((name) => [name, id(name)]));
const namesById = new Map<string, CategoryName>(CATEGORY_NAMES.map((name) => [id(name), name]));

export function isCategoryName(value: unknown): value is CategoryName {
  return typeof value === 'string' && idsByName.has(value);
}

/** The `bytes32` id of a category name, as the contract stores it. */
export function categoryId(name: CategoryName): string {
  const categoryHash = idsByName.get(name);
  if (!categoryHash) throw new RangeError(`unknown category: ${String(name)}`);
  return categoryHash;
}

/** The name of a category id, or undefined for an id that is not one of ours. */
export function categoryName(categoryHash: string): CategoryName | undefined {
  return namesById.get(categoryHash.toLowerCase());
}
