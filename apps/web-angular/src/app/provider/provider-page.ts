import { ChangeDetectionStrategy, Component } from '@angular/core';

/** The provider's view (placeholder). */
@Component({
  selector: 'app-provider-page',
  template: `
    <h1>Provider</h1>
    <p>
      The provider view is coming soon: here you will see which patients have shared what with you, and until
      when.
    </p>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderPage {}
