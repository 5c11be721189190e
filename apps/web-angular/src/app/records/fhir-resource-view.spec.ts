import { TestBed } from '@angular/core/testing';

import { allByTestId } from '../testing/test-helpers';
import { FhirResourceView } from './fhir-resource-view';
import { fhirProblem } from './fhir-summary';

const SCRIPT = '<script>window.__pwned = true</script><img src=x onerror="window.__pwned = true">';

const glucose = {
  resourceType: 'Observation',
  status: 'final',
  code: {
    coding: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose [Mass/volume] in Serum' }],
  },
  effectiveDateTime: '2026-11-20T08:30:00Z',
  valueQuantity: { value: 95, unit: 'mg/dL' },
  referenceRange: [{ low: { value: 70, unit: 'mg/dL' }, high: { value: 99, unit: 'mg/dL' } }],
};

const bloodPressure = {
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Blood pressure' },
  effectiveDateTime: '2026-11-20',
  component: [
    { code: { text: 'Systolic' }, valueQuantity: { value: 150, unit: 'mmHg' } },
    { code: { text: 'Diastolic' }, valueQuantity: { value: 95, unit: 'mmHg' } },
  ],
};

const documentReference = {
  resourceType: 'DocumentReference',
  status: 'current',
  type: { text: 'Discharge summary' },
  description: `Summary ${SCRIPT}`,
  date: '2026-11-21T10:00:00Z',
  author: [{ display: 'Dr Ada Lee' }],
  content: [{ attachment: { contentType: 'application/pdf', title: 'discharge.pdf', size: 52_000 } }],
};

describe('FhirResourceView', () => {
  let root: HTMLElement;

  function render(resource: unknown): void {
    const fixture = TestBed.createComponent(FhirResourceView);
    fixture.componentRef.setInput('resource', resource);
    fixture.detectChanges();
    root = fixture.nativeElement as HTMLElement;
  }

  const fields = () =>
    Object.fromEntries(
      allByTestId(root, 'fhir-field').map((e) => [
        e.dataset['label'],
        e.querySelector('dd')!.textContent!.trim(),
      ]),
    );

  afterEach(() => {
    delete (window as { __pwned?: boolean }).__pwned;
  });

  it('shows a Bundle of Observations as one table (value and unit, when, normal range), and a DocumentReference', () => {
    render({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: glucose }, { resource: bloodPressure }, { resource: documentReference }],
    });

    const sections = allByTestId(root, 'fhir-section');
    expect(sections.map((s) => [s.dataset['kind'], s.dataset['resourceType']])).toEqual([
      ['observations', 'Observation'],
      ['fields', 'DocumentReference'],
    ]);
    const rows = allByTestId(root, 'fhir-observation-row').map((row) =>
      Array.from(row.querySelectorAll('td')).map((td) => td.textContent!.replace(/\s+/g, ' ').trim()),
    );
    expect(rows).toHaveLength(3);
    expect(rows[0]![0]).toBe('Glucose [Mass/volume] in Serum');
    expect(rows[0]![1]).toBe('95 mg/dL');
    expect(rows[0]![2]).not.toBe(''); // the moment, in the reader's locale
    expect(rows[0]![3]).toBe('70–99 mg/dL');
    expect(rows[1]).toEqual(['Blood pressure: Systolic', '150 mmHg', '2026-11-20', '']);
    expect(rows[2]).toEqual(['Blood pressure: Diastolic', '95 mmHg', '2026-11-20', '']);

    const document = fields();
    expect(document['Type']).toBe('Discharge summary');
    expect(document['Author']).toBe('Dr Ada Lee');
    expect(document['Status']).toBe('current');
    expect(document['Attachment']).toBe('discharge.pdf (application/pdf, 52000 bytes)');
  });

  it('shows a single Observation, Condition, medications, allergy and Patient as labelled fields', () => {
    render(glucose);
    expect(fields()).toMatchObject({
      Test: 'Glucose [Mass/volume] in Serum',
      Value: '95 mg/dL',
      'Normal range': '70–99 mg/dL',
      Status: 'final',
    });

    render({
      resourceType: 'Condition',
      code: { text: 'Type 2 diabetes' },
      clinicalStatus: { coding: [{ code: 'active' }] },
      onsetDateTime: '2019',
    });
    expect(fields()).toEqual({ Condition: 'Type 2 diabetes', 'Clinical status': 'active', Onset: '2019' });

    render({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: 'Metformin 500 mg' },
      dosageInstruction: [{ text: 'One tablet twice a day' }],
      requester: { display: 'Dr Ada Lee' },
    });
    expect(fields()).toMatchObject({
      Medication: 'Metformin 500 mg',
      Dosage: 'One tablet twice a day',
      'Prescribed by': 'Dr Ada Lee',
    });

    render({
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationReference: { display: 'Atorvastatin' },
      dosage: [{ text: '20 mg at night' }],
    });
    expect(fields()).toMatchObject({ Medication: 'Atorvastatin', Dosage: '20 mg at night' });

    render({
      resourceType: 'AllergyIntolerance',
      code: { text: 'Penicillin' },
      criticality: 'high',
      reaction: [{ manifestation: [{ text: 'Hives' }], severity: 'moderate' }],
    });
    expect(fields()).toMatchObject({
      Substance: 'Penicillin',
      Criticality: 'high',
      Reaction: 'Hives (moderate)',
    });

    render({
      resourceType: 'Patient',
      name: [{ given: ['Jane'], family: 'Doe' }],
      gender: 'female',
      birthDate: '1980-04-02',
    });
    expect(fields()).toEqual({ Name: 'Jane Doe', Gender: 'female', Born: '1980-04-02' });
  });

  it('shows an unknown resource type as a labelled key/value tree', () => {
    render({
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '207' }] },
      occurrenceDateTime: '2026-10-01',
    });
    const [section] = allByTestId(root, 'fhir-section');
    expect(section!.dataset['kind']).toBe('tree');
    expect(section!.querySelector('h3')!.textContent).toContain('Immunization');
    const terms = Array.from(root.querySelectorAll('dt')).map((dt) => dt.textContent!.trim());
    expect(terms).toEqual(['status', 'vaccineCode', 'coding', '1', 'system', 'code', 'occurrenceDateTime']);
    const values = Array.from(root.querySelectorAll('dd'))
      .filter((dd) => !dd.querySelector('dl'))
      .map((dd) => dd.textContent!.trim());
    expect(values).toEqual(['completed', 'http://hl7.org/fhir/sid/cvx', '207', '2026-10-01']);
  });

  it('shows markup in record content as text: no element is made from it and nothing runs', () => {
    for (const resource of [
      documentReference,
      { resourceType: 'Basic', code: { text: SCRIPT }, [SCRIPT]: SCRIPT },
    ]) {
      render(resource);
      expect(root.textContent).toContain('<script>window.__pwned = true</script>');
      expect(root.querySelector('script')).toBeNull();
      expect(root.querySelector('img')).toBeNull();
    }
    expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
  });

  it('accepts as FHIR only a JSON object with a resourceType', () => {
    expect(fhirProblem(JSON.stringify(glucose))).toBeNull();
    expect(fhirProblem('{ not json')).toBe('This is not valid JSON.');
    expect(fhirProblem('[1, 2]')).toBe('A FHIR resource is a JSON object.');
    expect(fhirProblem('{"status": "final"}')).toMatch(/no "resourceType"/);
  });
});
