import { ChangeDetectionStrategy, Component, type ElementRef, viewChild } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

/** One entry of the main navigation. */
export interface NavLink {
  readonly path: string;
  readonly label: string;
}

/** The application shell: header with the product name, main navigation and the routed page. */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  templateUrl: './app.html',
  styleUrl: './app.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class App {
  protected readonly productName = 'Custos';

  protected readonly navLinks: readonly NavLink[] = [
    { path: '/', label: 'Home' },
    { path: '/patient', label: 'Patient' },
    { path: '/provider', label: 'Provider' },
    { path: '/compliance', label: 'Compliance' },
    { path: '/admin', label: 'Administration' },
  ];

  private readonly main = viewChild.required<ElementRef<HTMLElement>>('main');

  /**
   * With `<base href="/">` a bare `#main-content` link would resolve against the base and leave
   * the current page, so the skip link moves focus itself.
   */
  protected skipToMain(event: Event): void {
    event.preventDefault();
    this.main().nativeElement.focus();
  }
}
