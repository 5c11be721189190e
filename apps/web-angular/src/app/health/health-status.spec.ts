import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { type ComponentFixture, TestBed } from '@angular/core/testing';

import { HealthStatus } from './health-status';

describe('HealthStatus', () => {
  let fixture: ComponentFixture<HealthStatus>;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [HealthStatus],
      providers: [provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(HealthStatus);
    await fixture.whenStable();
  });

  afterEach(() => http.verify());

  const status = (): string =>
    (fixture.nativeElement as HTMLElement).querySelector('[role="status"]')?.textContent?.trim() ?? '';
  const retryButton = (): HTMLButtonElement | null =>
    (fixture.nativeElement as HTMLElement).querySelector('button');

  it('shows a loading state while it asks GET /health', () => {
    const req = http.expectOne('/health');
    expect(req.request.method).toBe('GET');
    expect(status()).toBe('API: checking…');
    expect(retryButton()).toBeNull();
    req.flush({ status: 'ok' });
  });

  it('shows "API: ok" when the API answers ok', async () => {
    http.expectOne('/health').flush({ status: 'ok' });
    await fixture.whenStable();
    expect(status()).toBe('API: ok');
    expect(retryButton()).toBeNull();
  });

  it('shows an error with the HTTP status when the API fails', async () => {
    http.expectOne('/health').flush('down', { status: 503, statusText: 'Service Unavailable' });
    await fixture.whenStable();
    expect(status()).toContain('API: unavailable');
    expect(status()).toContain('503 Service Unavailable');
  });

  it('shows an error when the API cannot be reached', async () => {
    http.expectOne('/health').error(new ProgressEvent('error'));
    await fixture.whenStable();
    expect(status()).toContain('API: unavailable');
    expect(status()).toContain('cannot reach the API');
  });

  it('treats an unexpected body as an error', async () => {
    http.expectOne('/health').flush({ status: 'starting' });
    await fixture.whenStable();
    expect(status()).toContain('API: unavailable');
  });

  it('lets the user try again after an error', async () => {
    http.expectOne('/health').flush('down', { status: 500, statusText: 'Internal Server Error' });
    await fixture.whenStable();

    retryButton()?.click();
    await fixture.whenStable();
    expect(status()).toBe('API: checking…');

    http.expectOne('/health').flush({ status: 'ok' });
    await fixture.whenStable();
    expect(status()).toBe('API: ok');
  });

  it('puts the status in a live region under a "Service status" heading', () => {
    const root = fixture.nativeElement as HTMLElement;
    const section = root.querySelector('section');
    const headingId = section?.getAttribute('aria-labelledby') ?? '';
    expect(root.querySelector(`#${headingId}`)?.textContent).toBe('Service status');
    expect(section?.querySelector('[role="status"]')).not.toBeNull();
    http.expectOne('/health').flush({ status: 'ok' });
  });
});
