import { type ComponentFixture, TestBed } from '@angular/core/testing';

import { byTestId } from '../testing/test-helpers';
import { type ActionProgress, ActionProgressView, type PreparedActionProgress } from './action-progress';

describe('ActionProgressView', () => {
  let fixture: ComponentFixture<ActionProgressView>;
  let root: HTMLElement;

  async function show(progress: ActionProgress): Promise<void> {
    fixture.componentRef.setInput('progress', progress);
    await fixture.whenStable();
  }

  beforeEach(async () => {
    fixture = TestBed.createComponent(ActionProgressView);
    fixture.componentRef.setInput('confirmedText', 'Access given.');
    root = fixture.nativeElement as HTMLElement;
    document.body.appendChild(root);
    await show({ step: 'signing' });
  });

  afterEach(() => root.remove());

  const state = () => byTestId(root, 'action-progress-state').textContent?.trim();
  const done = () =>
    Array.from(root.querySelectorAll('.progress__step.is-done')).map((li) => li.textContent?.trim());

  it('walks signed → sent → confirmed, in a live region', async () => {
    expect(byTestId(root, 'action-progress-state').getAttribute('role')).toBe('status');
    expect(state()).toBe('Signing…');
    expect(done()).toEqual([]);

    await show({ step: 'signed' });
    expect(byTestId(root, 'action-progress').dataset['step']).toBe('signed');
    expect(state()).toBe('Signed. Sending…');
    expect(done()).toEqual(['Done: Signed']);

    await show({ step: 'sent' });
    expect(state()).toBe('Sent. Waiting for confirmation…');
    expect(done()).toEqual(['Done: Signed', 'Done: Sent']);

    await show({ step: 'confirmed' });
    expect(state()).toBe('Access given.');
    expect(done()).toEqual(['Done: Signed', 'Done: Sent', 'Done: Confirmed']);
    expect(root.querySelector('[data-testid="action-progress-retry"]')).toBeNull();
  });

  it('asks to confirm in the extension when it signs there', async () => {
    await show({ step: 'signing', inExtension: true });
    expect(state()).toBe('Confirm in your wallet extension…');
  });

  it('shows a failure with its reason, what was reached, and a Retry that emits', async () => {
    let retried = 0;
    fixture.componentInstance.retry.subscribe(() => retried++);
    await show({ step: 'failed', reason: 'The relayer ran out of funds.', after: 'sent' });
    expect(byTestId(root, 'action-progress').dataset['step']).toBe('failed');
    expect(state()).toBe('It did not go through.');
    expect(byTestId(root, 'action-progress-reason').textContent).toBe('The relayer ran out of funds.');
    expect(done()).toEqual(['Done: Signed', 'Done: Sent']);
    byTestId(root, 'action-progress-retry').click();
    expect(retried).toBe(1);
  });

  it('moves focus to the progress sentence when it appears', () => {
    expect(document.activeElement).toBe(byTestId(root, 'action-progress-state'));
  });

  describe('with steps of its own before signing', () => {
    type Upload = PreparedActionProgress<'encrypting' | 'uploading', 'encrypted' | 'uploaded'>;
    const show = async (progress: Upload) => {
      fixture.componentRef.setInput('progress', progress);
      await fixture.whenStable();
    };

    beforeEach(async () => {
      root.remove();
      fixture = TestBed.createComponent(ActionProgressView);
      fixture.componentRef.setInput('testId', 'upload-progress');
      fixture.componentRef.setInput('confirmedText', 'Your record is saved.');
      fixture.componentRef.setInput('preparation', [
        { running: 'encrypting', done: 'encrypted', label: 'Encrypted', sentence: 'Encrypting…' },
        { running: 'uploading', done: 'uploaded', label: 'Uploaded', sentence: 'Encrypted. Uploading…' },
      ]);
      root = fixture.nativeElement as HTMLElement;
      document.body.appendChild(root);
      await show({ step: 'encrypting' });
    });

    const uploadState = () => byTestId(root, 'upload-progress-state').textContent?.trim();
    const steps = () =>
      Array.from(root.querySelectorAll('.progress__step')).map((li) => li.textContent?.trim());

    it('lists them first and walks through them to the signed action, under its own test hooks', async () => {
      expect(steps()).toEqual([
        'Not yet: Encrypted',
        'Not yet: Uploaded',
        'Not yet: Signed',
        'Not yet: Sent',
        'Not yet: Confirmed',
      ]);
      expect(byTestId(root, 'upload-progress').dataset['step']).toBe('encrypting');
      expect(uploadState()).toBe('Encrypting…');
      expect(root.querySelector('.progress__step.is-current')?.textContent).toContain('Encrypted');

      await show({ step: 'uploading' });
      expect(uploadState()).toBe('Encrypted. Uploading…');
      expect(done()).toEqual(['Done: Encrypted']);

      await show({ step: 'signing', inExtension: true });
      expect(uploadState()).toBe('Uploaded. Confirm in your wallet extension…');
      await show({ step: 'signing' });
      expect(uploadState()).toBe('Uploaded. Signing…');
      expect(done()).toEqual(['Done: Encrypted', 'Done: Uploaded']);

      await show({ step: 'sent' });
      expect(uploadState()).toBe('Sent. Waiting for confirmation…');
      await show({ step: 'confirmed' });
      expect(uploadState()).toBe('Your record is saved.');
      expect(done()).toHaveLength(5);
      expect(root.querySelector('[data-testid="action-progress"]')).toBeNull();
    });

    it('keeps what was reached when it fails, with the reason and Retry', async () => {
      let retried = 0;
      fixture.componentInstance.retry.subscribe(() => retried++);
      await show({ step: 'failed', reason: 'Custos cannot be reached.', after: 'uploaded' });
      expect(done()).toEqual(['Done: Encrypted', 'Done: Uploaded']);
      expect(byTestId(root, 'upload-progress-reason').textContent).toBe('Custos cannot be reached.');
      byTestId(root, 'upload-progress-retry').click();
      expect(retried).toBe(1);

      await show({ step: 'failed', reason: 'Nope.' });
      expect(done()).toEqual([]);
    });
  });
});
