import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import { type FhirTreeNode, summarizeFhir } from './fhir-summary';

/**
 * A key/value tree (`toTree`): keys as terms, text values as descriptions, nested trees inside.
 * Recursive (it uses itself for children); depth and size are bounded by `toTree`.
 */
@Component({
  selector: 'app-fhir-tree',
  template: `
    <dl class="fhir-tree" data-testid="fhir-tree">
      @for (node of nodes(); track $index) {
        <div class="fhir-tree__row">
          <dt>{{ node.key }}</dt>
          <dd>
            @if (node.children) {
              <app-fhir-tree [nodes]="node.children" />
            } @else {
              {{ node.value }}
            }
          </dd>
        </div>
      }
    </dl>
  `,
  styles: `
    .fhir-tree {
      margin: 0;
    }
    .fhir-tree__row {
      display: grid;
      grid-template-columns: minmax(8rem, 14rem) 1fr;
      gap: 0.75rem;
      padding: 0.25rem 0;
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
      white-space: pre-line;
      overflow-wrap: anywhere;
    }
    dd .fhir-tree {
      border-left: 2px solid currentColor;
      padding-left: 0.75rem;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class FhirTreeView {
  readonly nodes = input.required<readonly FhirTreeNode[]>();
}

/**
 * A decrypted FHIR R4 resource shown readably (see `summarizeFhir`): labelled fields for the common
 * clinical types, one table for a Bundle's Observations, a key/value tree for anything else. Record
 * content is only ever interpolated as text, never bound as HTML.
 *
 * `<app-fhir-resource-view [resource]="parsedJson" />`
 *
 * Test hooks: `fhir-section` (with `data-kind`, `data-resource-type`), `fhir-field` (with
 * `data-label`), `fhir-observation-row`, `fhir-tree`.
 */
@Component({
  selector: 'app-fhir-resource-view',
  imports: [FhirTreeView],
  template: `
    @for (section of sections(); track $index) {
      <section
        class="fhir-section"
        data-testid="fhir-section"
        [attr.data-kind]="section.kind"
        [attr.data-resource-type]="section.kind === 'observations' ? 'Observation' : section.resourceType"
      >
        <h3 class="fhir-section__heading">{{ section.heading }}</h3>
        @switch (section.kind) {
          @case ('observations') {
            <div class="table-wrap" tabindex="0" role="region" [attr.aria-label]="section.heading">
              <table class="table table--compact">
                <thead>
                  <tr>
                    <th scope="col">Test</th>
                    <th scope="col">Result</th>
                    <th scope="col">When</th>
                    <th scope="col">Normal range</th>
                  </tr>
                </thead>
                <tbody>
                  @for (row of section.rows; track $index) {
                    <tr data-testid="fhir-observation-row">
                      <td data-label="Test">{{ row.test }}</td>
                      <td data-label="Result">
                        {{ row.value }}
                        @if (row.interpretation) {
                          <span class="muted">({{ row.interpretation }})</span>
                        }
                      </td>
                      <td data-label="When">{{ row.effective }}</td>
                      <td data-label="Normal range">{{ row.range }}</td>
                    </tr>
                  }
                </tbody>
              </table>
            </div>
          }
          @case ('fields') {
            <dl class="fhir-fields">
              @for (field of section.fields; track $index) {
                <div class="fhir-fields__row" data-testid="fhir-field" [attr.data-label]="field.label">
                  <dt>{{ field.label }}</dt>
                  <dd>{{ field.value }}</dd>
                </div>
              }
            </dl>
            @if (section.rest.length > 0) {
              <details class="disclosure">
                <summary>Other details</summary>
                <app-fhir-tree [nodes]="section.rest" />
              </details>
            }
          }
          @case ('tree') {
            <app-fhir-tree [nodes]="section.tree" />
          }
        }
      </section>
    }
  `,
  styles: `
    .fhir-section + .fhir-section {
      margin-top: 1.5rem;
    }
    .fhir-fields {
      margin: 0;
    }
    .fhir-fields__row {
      display: grid;
      grid-template-columns: minmax(8rem, 14rem) 1fr;
      gap: 0.75rem;
      padding: 0.25rem 0;
    }
    .fhir-fields dt {
      font-weight: 600;
    }
    .fhir-fields dd {
      margin: 0;
      white-space: pre-line;
      overflow-wrap: anywhere;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class FhirResourceView {
  /** The parsed JSON of a FHIR resource (any value is shown somehow). */
  readonly resource = input.required<unknown>();

  protected readonly sections = computed(() => summarizeFhir(this.resource()));
}
