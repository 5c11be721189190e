import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRoute, RouterLink } from '@angular/router';
import { map } from 'rxjs';

import { MessagingKeys } from '../messaging/messaging-keys';
import { AddressChip } from '../shared/address-chip';
import { ErrorState } from '../shared/error-state';
import { RecordList } from './record-list';
import { RecordsUnlock } from './records-unlock';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * A patient's records as a provider or emergency staff member sees them
 * (`/provider/patients/:patient/records`, `/emergency/patients/:patient/records`): the records in the
 * categories they may read now (`GET /records?patient=`), titles decrypted with the keys the patient's
 * app shared, each openable (see `RecordViewer`). The API's refusal is shown as it gives it.
 *
 * Test hooks: `staff-records`, `staff-records-loading`, `staff-records-error`, `staff-records-empty`,
 * `staff-records-more`, and those of the table, history and viewer.
 */
@Component({
  selector: 'app-staff-records-page',
  imports: [AddressChip, ErrorState, RecordList, RecordsUnlock, RouterLink],
  template: `
    <h1>Patient records</h1>
    @if (patient(); as patient) {
      <p class="lede">
        Records of <app-address-chip [address]="patient" testId="staff-records-patient" /> that you may read
        now. They are decrypted in your browser; every opening is recorded in the patient's access log.
      </p>
    }
    <p><a [routerLink]="back" data-testid="staff-records-back">Back</a></p>

    @if (!patient()) {
      <app-error-state
        heading="No such patient"
        message="The address in the link is not an account address."
        [retryable]="false"
        testId="staff-records-error"
      />
    } @else if (!keys.unlocked()) {
      <app-records-unlock />
    } @else {
      <app-record-list
        testId="staff-records"
        tableTestId="staff-records"
        caption="The patient's records, newest first"
        loadingLabel="Loading and decrypting the records…"
        errorHeading="The records could not be loaded"
        emptyHeading="No records you may read."
        [patient]="patient()"
      >
        The patient has no records in the categories they gave you access to.
      </app-record-list>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class StaffRecordsPage {
  protected readonly keys = inject(MessagingKeys);
  private readonly route = inject(ActivatedRoute);
  /** Where "Back" leads: the area's home (route data `back`). */
  protected readonly back = (this.route.snapshot.data['back'] as string | undefined) ?? '/';
  /** Lower-case address of the patient in the link, or null when it is not an address. */
  protected readonly patient = toSignal(
    this.route.paramMap.pipe(
      map((params) => {
        const address = params.get('patient') ?? '';
        return ADDRESS.test(address) ? address.toLowerCase() : null;
      }),
    ),
    { initialValue: null },
  );
}
