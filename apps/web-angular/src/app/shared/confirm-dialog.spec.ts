import { Component, viewChild } from '@angular/core';
import { TestBed } from '@angular/core/testing';

import { byTestId } from '../testing/test-helpers';
import { ConfirmDialog } from './confirm-dialog';

@Component({
  imports: [ConfirmDialog],
  template: `<app-confirm-dialog heading="Take back access?" confirmLabel="Revoke" tone="danger">
    <p>Dr Lee will no longer see your lab results.</p>
  </app-confirm-dialog>`,
})
class Host {
  readonly dialog = viewChild.required(ConfirmDialog);
}

describe('ConfirmDialog', () => {
  async function setup() {
    const fixture = TestBed.createComponent(Host);
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;
    return { dialog: fixture.componentInstance.dialog(), root, element: root.querySelector('dialog')! };
  }

  it('is a labelled native dialog with the projected explanation', async () => {
    const { element } = await setup();
    const heading = element.querySelector(`#${element.getAttribute('aria-labelledby')}`);
    expect(heading?.textContent).toBe('Take back access?');
    expect(element.querySelector(`#${element.getAttribute('aria-describedby')}`)?.textContent).toContain(
      'Dr Lee will no longer see your lab results.',
    );
    expect(element.open).toBe(false);
  });

  it('resolves true when confirmed', async () => {
    const { dialog, root, element } = await setup();
    const answer = dialog.open();
    expect(element.open).toBe(true);
    expect(byTestId(root, 'confirm-dialog-confirm').textContent?.trim()).toBe('Revoke');
    byTestId(root, 'confirm-dialog-confirm').click();
    expect(await answer).toBe(true);
    expect(element.open).toBe(false);
  });

  it('resolves false when cancelled, and focuses Cancel first', async () => {
    const { dialog, root } = await setup();
    const answer = dialog.open();
    expect(document.activeElement).toBe(byTestId(root, 'confirm-dialog-cancel'));
    byTestId(root, 'confirm-dialog-cancel').click();
    expect(await answer).toBe(false);
  });
});
