import { ChangeDetectionStrategy, Component } from '@angular/core';

/** The patient's view (placeholder until the consent features land). */
@Component({
  selector: 'app-patient-page',
  template: `
    <h1>Patient</h1>
    <p>The patient view is coming soon: here you will grant, review and revoke access to your records.</p>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PatientPage {}
