import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import type { MessageKind } from '@custos/domain/messaging';

import { ConversationThread } from './conversation-thread';
import {
  type StructuredKind,
  STRUCTURED_KINDS,
  isStructuredKind,
  kindSpec,
  missingFields,
  serializeStructured,
} from './medical-content';

/**
 * Writes a message in the open conversation. Patients write text and may flag it urgent; providers
 * also send structured medical messages (a simple form per kind) and may ask for an acknowledgment.
 * The draft stays until the message is accepted.
 */
@Component({
  selector: 'app-message-composer',
  template: `
    @let busy = thread.sending();
    <form
      class="composer"
      aria-label="Write a message"
      novalidate
      data-testid="message-composer"
      (submit)="submit($event)"
    >
      @if (role() === 'provider') {
        <div class="field">
          <label for="message-kind">Type</label>
          <select
            id="message-kind"
            data-testid="message-kind"
            [value]="kind()"
            (change)="chooseKind($any($event.target).value)"
          >
            <option value="text">Message</option>
            @for (spec of kinds; track spec.kind) {
              <option [value]="spec.kind">{{ spec.label }}</option>
            }
          </select>
        </div>
      }

      @if (structured(); as spec) {
        <fieldset class="composer__fields" data-testid="structured-form" [attr.data-kind]="spec.kind">
          <legend>{{ spec.label }}</legend>
          @for (field of spec.fields; track field.name) {
            <div class="field">
              <label [for]="'field-' + field.name">
                {{ field.label }}
                @if (field.required) {
                  <span aria-hidden="true"> *</span>
                }
              </label>
              @switch (field.type) {
                @case ('textarea') {
                  <textarea
                    [id]="'field-' + field.name"
                    rows="3"
                    [required]="!!field.required"
                    [attr.data-testid]="'field-' + field.name"
                    [value]="values()[field.name] ?? ''"
                    (input)="setField(field.name, $any($event.target).value)"
                  ></textarea>
                }
                @case ('select') {
                  <select
                    [id]="'field-' + field.name"
                    [attr.data-testid]="'field-' + field.name"
                    [value]="values()[field.name] ?? ''"
                    (change)="setField(field.name, $any($event.target).value)"
                  >
                    <option value="">Not stated</option>
                    @for (option of field.options ?? []; track option) {
                      <option [value]="option">{{ option }}</option>
                    }
                  </select>
                }
                @default {
                  <input
                    [id]="'field-' + field.name"
                    [type]="field.type"
                    [required]="!!field.required"
                    [attr.data-testid]="'field-' + field.name"
                    [value]="values()[field.name] ?? ''"
                    (input)="setField(field.name, $any($event.target).value)"
                  />
                }
              }
            </div>
          }
        </fieldset>
      } @else {
        <div class="field">
          <label for="message-input">Your message</label>
          <textarea
            id="message-input"
            rows="3"
            data-testid="message-input"
            [value]="text()"
            (input)="text.set($any($event.target).value)"
            (keydown.control.enter)="submit($event)"
            (keydown.meta.enter)="submit($event)"
          ></textarea>
          <p class="hint">Only the people in this conversation can read it. Ctrl+Enter sends.</p>
        </div>
      }

      @if (role() === 'patient') {
        <div class="field field--checkbox">
          <input
            id="message-urgent"
            type="checkbox"
            data-testid="message-urgent"
            [checked]="urgent()"
            (change)="urgent.set($any($event.target).checked)"
          />
          <label for="message-urgent">Urgent: I need an answer today</label>
        </div>
        @if (urgent()) {
          <p class="hint">In an emergency, call your local emergency number instead of writing.</p>
        }
      } @else {
        <div class="field field--checkbox">
          <input
            id="message-ack"
            type="checkbox"
            data-testid="message-requires-ack"
            [checked]="requiresAck()"
            (change)="requiresAck.set($any($event.target).checked)"
          />
          <label for="message-ack">Ask the patient to confirm they have read it</label>
        </div>
      }

      @if (formError() ?? thread.sendError(); as error) {
        <p class="form-error" role="alert" data-testid="send-error">{{ error }}</p>
      }
      <div class="actions">
        <button type="submit" class="button--primary" data-testid="send-button" [disabled]="busy">
          {{ busy ? 'Encrypting and sending…' : 'Send' }}
        </button>
      </div>
    </form>
  `,
  styles: `
    .composer {
      margin-top: 1rem;
      padding: 0.75rem;
      border-top: 2px solid var(--color-surface);
    }
    .composer textarea,
    .composer select {
      width: 100%;
      max-width: 40rem;
      font: inherit;
      padding: 0.5rem;
      border: 2px solid var(--color-border);
      border-radius: var(--radius);
    }
    .composer__fields {
      border: 1px solid var(--color-border);
      border-radius: var(--radius);
    }
    .composer__fields legend {
      font-weight: 600;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MessageComposer {
  /** The writer's place in the conversation. */
  readonly role = input.required<'patient' | 'provider'>();

  protected readonly thread = inject(ConversationThread);
  protected readonly kinds = STRUCTURED_KINDS;
  protected readonly kind = signal<MessageKind>('text');
  protected readonly text = signal('');
  protected readonly values = signal<Readonly<Record<string, string>>>({});
  protected readonly urgent = signal(false);
  protected readonly requiresAck = signal(false);
  protected readonly formError = signal<string | null>(null);
  protected readonly structured = computed(() => {
    const kind = this.kind();
    return isStructuredKind(kind) ? kindSpec(kind) : null;
  });

  protected chooseKind(kind: string): void {
    this.kind.set(isStructuredKind(kind) ? kind : 'text');
    this.formError.set(null);
    // Structured results usually need the patient to confirm they saw them.
    if (isStructuredKind(kind)) this.requiresAck.set(true);
  }

  protected setField(name: string, value: string): void {
    this.values.update((values) => ({ ...values, [name]: value }));
  }

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    if (this.thread.sending()) return;
    this.formError.set(null);
    const kind = this.kind();
    const content = isStructuredKind(kind) ? this.structuredContent(kind) : this.textContent();
    if (content === null) return;
    const provider = this.role() === 'provider';
    const outcome = await this.thread.send({
      kind,
      content,
      urgent: !provider && this.urgent(),
      requiresAcknowledgment: provider && this.requiresAck(),
    });
    if (outcome === 'sent') this.clear();
  }

  private textContent(): string | null {
    const text = this.text().trim();
    if (!text) {
      this.formError.set('Write something first.');
      return null;
    }
    return text;
  }

  private structuredContent(kind: StructuredKind): string | null {
    const missing = missingFields(kind, this.values());
    if (missing.length > 0) {
      this.formError.set(`Fill in: ${missing.join(', ')}.`);
      return null;
    }
    return serializeStructured(kind, this.values());
  }

  private clear(): void {
    this.text.set('');
    this.values.set({});
    this.urgent.set(false);
    this.requiresAck.set(isStructuredKind(this.kind()));
  }
}
