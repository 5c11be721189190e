import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import {
  type ChartBox,
  type VolumeEntry,
  barLayout,
  bucketLabel,
  bucketSummary,
  volumeBuckets,
} from './access-volume';

/** The drawing's size in SVG user units (it scales to the width of its container). */
export const CHART_BOX: ChartBox = { width: 640, height: 220, left: 40, bottom: 28, top: 12 };

let nextId = 0;

/**
 * Access volume over time as an inline SVG bar chart: one stacked bar per time bucket, allowed
 * (blue, bottom) and denied (red, top). Each bar has a tooltip; screen readers get the same numbers in
 * a table.
 *
 * `<app-access-volume-chart [entries]="entries()" [from]="fromMs" [to]="toMs" />`
 *
 * Test hooks: `volume-chart`, `volume-bar` (`data-allowed`, `data-denied`), `volume-bar-allowed`,
 * `volume-bar-denied` (their `height`), `volume-chart-empty`.
 */
@Component({
  selector: 'app-access-volume-chart',
  template: `
    @let chart = layout();
    <figure class="chart" data-testid="volume-chart">
      <figcaption class="chart__caption" [id]="captionId">
        Access volume over time
        <span class="muted">({{ total() }} {{ total() === 1 ? 'entry' : 'entries' }} shown)</span>
      </figcaption>
      @if (chart.bars.length === 0) {
        <p class="muted" data-testid="volume-chart-empty">No entries to chart.</p>
      } @else {
        <ul class="chart__legend" aria-hidden="true">
          <li><span class="chart__swatch chart__swatch--allowed"></span>Allowed</li>
          <li><span class="chart__swatch chart__swatch--denied"></span>Denied</li>
        </ul>
        <svg
          class="chart__svg"
          [attr.viewBox]="'0 0 ' + box.width + ' ' + box.height"
          role="img"
          [attr.aria-labelledby]="captionId"
          [attr.aria-describedby]="tableId"
        >
          <line
            class="chart__axis"
            [attr.x1]="box.left"
            [attr.x2]="box.width"
            [attr.y1]="chart.baseline"
            [attr.y2]="chart.baseline"
          />
          <text class="chart__label" [attr.x]="box.left - 6" [attr.y]="chart.plotTop + 4" text-anchor="end">
            {{ chart.max }}
          </text>
          <text class="chart__label" [attr.x]="box.left - 6" [attr.y]="chart.baseline" text-anchor="end">
            0
          </text>
          @for (bar of chart.bars; track bar.bucket.start) {
            <g
              data-testid="volume-bar"
              [attr.data-allowed]="bar.bucket.allowed"
              [attr.data-denied]="bar.bucket.denied"
            >
              <title>{{ summary(bar.bucket) }}</title>
              <rect
                class="chart__bar--allowed"
                data-testid="volume-bar-allowed"
                [attr.x]="bar.x"
                [attr.y]="bar.allowedY"
                [attr.width]="bar.width"
                [attr.height]="bar.allowedHeight"
              />
              <rect
                class="chart__bar--denied"
                data-testid="volume-bar-denied"
                [attr.x]="bar.x"
                [attr.y]="bar.deniedY"
                [attr.width]="bar.width"
                [attr.height]="bar.deniedHeight"
              />
            </g>
          }
          <text class="chart__label" [attr.x]="box.left" [attr.y]="box.height - 8">
            {{ firstLabel() }}
          </text>
          <text class="chart__label" [attr.x]="box.width" [attr.y]="box.height - 8" text-anchor="end">
            {{ lastLabel() }}
          </text>
        </svg>
        <table class="visually-hidden" [id]="tableId">
          <caption>
            Accesses per period
          </caption>
          <thead>
            <tr>
              <th scope="col">Period starting</th>
              <th scope="col">Allowed</th>
              <th scope="col">Denied</th>
            </tr>
          </thead>
          <tbody>
            @for (bar of chart.bars; track bar.bucket.start) {
              <tr>
                <th scope="row">{{ label(bar.bucket) }}</th>
                <td>{{ bar.bucket.allowed }}</td>
                <td>{{ bar.bucket.denied }}</td>
              </tr>
            }
          </tbody>
        </table>
      }
    </figure>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AccessVolumeChart {
  readonly entries = input.required<readonly VolumeEntry[]>();
  /** The period to cover (epoch ms); by default the entries' own span. */
  readonly from = input<number | undefined>(undefined);
  readonly to = input<number | undefined>(undefined);

  protected readonly box = CHART_BOX;
  protected readonly captionId = `volume-chart-caption-${++nextId}`;
  protected readonly tableId = `volume-chart-table-${nextId}`;
  protected readonly label = bucketLabel;
  protected readonly summary = bucketSummary;

  protected readonly total = computed(() => this.entries().length);
  protected readonly layout = computed(() =>
    barLayout(
      this.entries().length ? volumeBuckets(this.entries(), { from: this.from(), to: this.to() }) : [],
      this.box,
    ),
  );
  protected readonly firstLabel = computed(() => {
    const first = this.layout().bars[0];
    return first ? bucketLabel(first.bucket) : '';
  });
  protected readonly lastLabel = computed(() => {
    const bars = this.layout().bars;
    return bars.length > 1 ? bucketLabel(bars[bars.length - 1]!.bucket) : '';
  });
}
