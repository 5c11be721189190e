import {
  STRUCTURED_KINDS,
  kindLabel,
  missingFields,
  readStructured,
  serializeStructured,
} from './medical-content';

describe('structured medical content', () => {
  it('has a form for every provider-only kind of the domain', () => {
    expect(STRUCTURED_KINDS.map((k) => k.kind)).toEqual([
      'lab_result',
      'prescription',
      'referral',
      'care_plan',
      'imaging',
    ]);
    expect(kindLabel('text')).toBe('Message');
    expect(kindLabel('prescription')).toBe('Prescription');
  });

  it('serialises the filled-in fields and reads them back as labelled lines, in form order', () => {
    const content = serializeStructured('prescription', {
      instructions: 'Take with food\nAvoid alcohol',
      medication: ' Amoxicillin ',
      dose: '500 mg',
      frequency: 'Three times a day',
      refills: '',
    });
    expect(JSON.parse(content)).toEqual({
      format: 'custos-medical/1',
      kind: 'prescription',
      fields: {
        medication: 'Amoxicillin',
        dose: '500 mg',
        frequency: 'Three times a day',
        instructions: 'Take with food\nAvoid alcohol',
      },
    });
    expect(readStructured('prescription', content)).toEqual([
      { label: 'Medication', value: 'Amoxicillin', multiline: false },
      { label: 'Dose', value: '500 mg', multiline: false },
      { label: 'How often', value: 'Three times a day', multiline: false },
      { label: 'Instructions', value: 'Take with food\nAvoid alcohol', multiline: true },
    ]);
  });

  it('names the required fields left empty', () => {
    expect(missingFields('referral', { to: 'Dr Chen', reason: ' ' })).toEqual(['Reason']);
    expect(missingFields('referral', { to: 'Dr Chen', reason: 'Palpitations' })).toEqual([]);
  });

  it('shows anything else as plain text', () => {
    expect(readStructured('text', '{"format":"custos-medical/1","fields":{}}')).toBeNull();
    expect(readStructured('lab_result', 'not json')).toBeNull();
    expect(readStructured('lab_result', '{"fields":{"test":"x"}}')).toBeNull();
  });
});
