import { CATEGORY_NAMES, type CategoryName, isCategoryName } from '@custos/chain/categories';

import { categoryLabel } from '../shared/category-label';

export { CATEGORY_NAMES, type CategoryName, isCategoryName };

/** A category as a provider reads it (the shared labels speak to the patient: "messages with you"). */
export function providerCategoryLabel(name: string): string {
  if (name === 'messaging') return 'Messaging';
  if (name === 'telehealth') return 'Telehealth (video and audio consultations)';
  const label = categoryLabel(name);
  return label.charAt(0).toUpperCase() + label.slice(1);
}
