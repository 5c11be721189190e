import { TestBed } from '@angular/core/testing';

import { allByTestId, byTestId } from '../testing/test-helpers';
import { type VolumeEntry, barLayout, volumeBuckets } from './access-volume';
import { AccessVolumeChart, CHART_BOX } from './access-volume-chart';

const at = (iso: string, outcome: 'allowed' | 'denied' = 'allowed'): VolumeEntry => ({
  occurredAt: iso,
  outcome,
});

describe('access volume', () => {
  it('counts allowed and denied entries per bucket, keeping empty buckets', () => {
    const buckets = volumeBuckets(
      [
        at('2026-03-12T10:05:00Z'),
        at('2026-03-12T10:40:00Z', 'denied'),
        at('2026-03-12T12:10:00Z'),
        at('2026-03-12T12:20:00Z'),
      ],
      { from: Date.parse('2026-03-12T10:00:00Z'), to: Date.parse('2026-03-12T13:00:00Z') },
      6,
    );
    // 3 hours in at most 6 buckets: one-hour buckets.
    expect(buckets.map((b) => [new Date(b.start).toISOString(), b.allowed, b.denied])).toEqual([
      ['2026-03-12T10:00:00.000Z', 1, 1],
      ['2026-03-12T11:00:00.000Z', 0, 0],
      ['2026-03-12T12:00:00.000Z', 2, 0],
    ]);
  });

  it('spans the entries themselves without a range, and nothing without entries', () => {
    const buckets = volumeBuckets([at('2026-03-01T00:00:00Z'), at('2026-03-20T00:00:00Z')], {}, 24);
    expect(buckets.length).toBeLessThanOrEqual(24);
    expect(buckets.reduce((sum, b) => sum + b.allowed, 0)).toBe(2);
    expect(volumeBuckets([])).toEqual([]);
  });

  it('scales bar heights to the largest bucket, denied stacked on allowed', () => {
    const box = { width: 240, height: 120, left: 40, bottom: 20, top: 0 }; // plot 100 high
    const layout = barLayout(
      [
        { start: 0, end: 1, allowed: 6, denied: 2 },
        { start: 1, end: 2, allowed: 2, denied: 0 },
        { start: 2, end: 3, allowed: 0, denied: 0 },
      ],
      box,
    );
    expect(layout.max).toBe(8);
    const [a, b, c] = layout.bars;
    expect(a!.allowedHeight).toBe(75);
    expect(a!.deniedHeight).toBe(25);
    expect(a!.allowedY).toBe(25);
    expect(a!.deniedY).toBe(0);
    expect(b!.allowedHeight).toBe(25);
    expect(c!.allowedHeight + c!.deniedHeight).toBe(0);
    expect(a!.x).toBeLessThan(b!.x);
  });
});

describe('AccessVolumeChart', () => {
  it('draws one bar per bucket with heights proportional to the counts', async () => {
    const fixture = TestBed.createComponent(AccessVolumeChart);
    fixture.componentRef.setInput('entries', [
      at('2026-03-12T10:05:00Z'),
      at('2026-03-12T10:06:00Z'),
      at('2026-03-12T10:07:00Z', 'denied'),
      at('2026-03-12T11:30:00Z'),
    ]);
    fixture.componentRef.setInput('from', Date.parse('2026-03-12T10:00:00Z'));
    fixture.componentRef.setInput('to', Date.parse('2026-03-12T12:00:00Z'));
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;

    const bars = allByTestId(root, 'volume-bar');
    // Two hours in at most 24 buckets: 5-minute buckets.
    expect(bars).toHaveLength(24);
    const totals = bars.map((b) => Number(b.dataset['allowed']) + Number(b.dataset['denied']));
    expect(totals.reduce((s, n) => s + n, 0)).toBe(4);

    const plot = CHART_BOX.height - CHART_BOX.bottom - CHART_BOX.top;
    const height = (el: Element) => Number(el.getAttribute('height'));
    const busiest = bars[totals.indexOf(Math.max(...totals))]!;
    // The busiest bucket (2 allowed, 1 denied) reaches the top of the plot.
    expect(height(byTestId(busiest, 'volume-bar-allowed'))).toBeCloseTo((2 / 3) * plot);
    expect(height(byTestId(busiest, 'volume-bar-denied'))).toBeCloseTo((1 / 3) * plot);
    const single = bars.find((b) => b.dataset['allowed'] === '1')!;
    expect(height(byTestId(single, 'volume-bar-allowed'))).toBeCloseTo(plot / 3);
    expect(single.querySelector('title')?.textContent).toContain('1 allowed, 0 denied');

    // The same numbers for screen readers.
    expect(root.querySelector('svg')?.getAttribute('role')).toBe('img');
    expect(root.querySelectorAll('table tbody tr')).toHaveLength(bars.length);
  });

  it('says when there is nothing to chart', async () => {
    const fixture = TestBed.createComponent(AccessVolumeChart);
    fixture.componentRef.setInput('entries', []);
    await fixture.whenStable();
    expect(byTestId(fixture.nativeElement as HTMLElement, 'volume-chart-empty').textContent).toContain(
      'No entries',
    );
  });
});
