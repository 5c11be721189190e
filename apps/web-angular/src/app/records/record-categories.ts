import { CATEGORY_NAMES, type CategoryName } from '@custos/chain/categories';

import { categoryLabel } from '../shared/category-label';

/** Categories a record can be filed under (messaging and telehealth are access, not records). */
export const RECORD_CATEGORIES: readonly CategoryName[] = CATEGORY_NAMES.filter(
  (name) => name !== 'messaging' && name !== 'telehealth',
);

/** "Lab results", "Imaging (X-rays, scans)", … */
export function recordCategoryLabel(name: string): string {
  const label = categoryLabel(name);
  return label.charAt(0).toUpperCase() + label.slice(1);
}
