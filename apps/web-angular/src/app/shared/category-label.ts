import type { CategoryName } from '@custos/chain/categories';

/** Each record category in the words a patient would use (after "your …"). */
const LABELS: Readonly<Record<CategoryName, string>> = {
  general: 'general health information',
  lab_results: 'lab results',
  imaging: 'imaging (X-rays, scans)',
  medications: 'medications',
  allergies: 'allergies',
  immunizations: 'vaccinations',
  vitals: 'vital signs (blood pressure, heart rate, …)',
  clinical_notes: 'clinical notes',
  mental_health: 'mental health records',
  reproductive_health: 'reproductive health records',
  substance_use: 'substance use records',
  messaging: 'messages with you',
  telehealth: 'video consultations',
};

/** `lab_results` → `lab results`; an unknown name is shown with its underscores as spaces. */
export function categoryLabel(name: string): string {
  return (LABELS as Readonly<Record<string, string>>)[name] ?? name.replace(/_/g, ' ');
}
