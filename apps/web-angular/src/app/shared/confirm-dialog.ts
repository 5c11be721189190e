import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  type ElementRef,
  inject,
  input,
  viewChild,
} from '@angular/core';

let nextId = 0;

/**
 * A modal question on the native `<dialog>` (focus trapped, Escape cancels, focus returns to the
 * button that opened it). The body is projected; `open()` resolves `true` when confirmed.
 *
 * ```html
 * <app-confirm-dialog #confirm heading="Take back access?" confirmLabel="Revoke" tone="danger">
 *   Dr Lee will no longer see your lab results.
 * </app-confirm-dialog>
 * ```
 * ```ts
 * if (await this.confirm().open()) { … }
 * ```
 */
@Component({
  selector: 'app-confirm-dialog',
  template: `
    <dialog
      #dialog
      class="dialog"
      [attr.aria-labelledby]="headingId"
      [attr.aria-describedby]="bodyId"
      [attr.data-testid]="testId()"
      (close)="settle(dialog.returnValue === 'confirm')"
    >
      <form method="dialog" class="dialog__form" (submit)="onSubmit($event)">
        <h2 class="dialog__heading" [id]="headingId">{{ heading() }}</h2>
        <div class="dialog__body" [id]="bodyId"><ng-content /></div>
        <div class="actions dialog__actions">
          <button
            type="submit"
            class="button"
            [class.button--danger]="tone() === 'danger'"
            [class.button--primary]="tone() !== 'danger'"
            value="confirm"
            [attr.data-testid]="testId() + '-confirm'"
          >
            {{ confirmLabel() }}
          </button>
          <button
            type="button"
            autofocus
            [attr.data-testid]="testId() + '-cancel'"
            (click)="dialog.close('cancel')"
          >
            {{ cancelLabel() }}
          </button>
        </div>
      </form>
    </dialog>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConfirmDialog {
  readonly heading = input.required<string>();
  readonly confirmLabel = input('Confirm');
  readonly cancelLabel = input('Cancel');
  /** `danger` styles the confirm button as a destructive action. */
  readonly tone = input<'default' | 'danger'>('default');
  /** `data-testid` of the dialog; its buttons get `<testId>-confirm` and `<testId>-cancel`. */
  readonly testId = input('confirm-dialog');

  protected readonly headingId = `confirm-dialog-heading-${++nextId}`;
  protected readonly bodyId = `confirm-dialog-body-${nextId}`;
  private readonly dialog = viewChild.required<ElementRef<HTMLDialogElement>>('dialog');
  private pending: ((confirmed: boolean) => void) | null = null;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.settle(false));
  }

  /** Shows the dialog; resolves `true` when confirmed, `false` when cancelled (button or Escape). */
  open(): Promise<boolean> {
    this.settle(false);
    const dialog = this.dialog().nativeElement;
    dialog.returnValue = '';
    return new Promise<boolean>((resolve) => {
      this.pending = resolve;
      if (!dialog.open) dialog.showModal();
    });
  }

  /** True while the dialog is shown. */
  isOpen(): boolean {
    return this.dialog().nativeElement.open;
  }

  protected onSubmit(event: SubmitEvent): void {
    // `method="dialog"` closes natively in browsers; do it ourselves too, for consistency.
    event.preventDefault();
    this.dialog().nativeElement.close('confirm');
  }

  protected settle(confirmed: boolean): void {
    const resolve = this.pending;
    this.pending = null;
    resolve?.(confirmed);
  }
}
