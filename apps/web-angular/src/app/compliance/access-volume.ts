/**
 * Access volume over time, from audit entries: counted into time buckets (allowed and denied), then
 * laid out as stacked bars for the inline SVG chart. Pure functions, tested on their own.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Bucket widths to choose from, smallest first. */
export const BUCKET_SIZES: readonly number[] = [
  MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  7 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];

/** The fewest one-minute buckets shown when the range is the entries' own span. */
export const MIN_SPAN_BUCKETS = 12;

export interface VolumeBucket {
  /** Start (inclusive) and end (exclusive), epoch milliseconds. */
  readonly start: number;
  readonly end: number;
  readonly allowed: number;
  readonly denied: number;
}

export interface VolumeEntry {
  readonly occurredAt: string;
  readonly outcome: 'allowed' | 'denied';
}

/**
 * Counts `entries` into at most `maxBuckets` buckets of one of `BUCKET_SIZES`, covering `from`..`to`
 * (epoch ms; by default the entries' own span). Empty buckets are kept, so gaps show as gaps.
 */
export function volumeBuckets(
  entries: readonly VolumeEntry[],
  range: { readonly from?: number; readonly to?: number } = {},
  maxBuckets = 24,
): VolumeBucket[] {
  const times = entries.map((e) => Date.parse(e.occurredAt)).filter((t) => Number.isFinite(t));
  if (times.length === 0 && (range.from === undefined || range.to === undefined)) return [];
  const to = range.to ?? Math.max(...times) + 1;
  // Without a chosen start, show at least `MIN_SPAN_BUCKETS` minutes, so a few entries are not one wide bar.
  const from = range.from ?? Math.min(...times, to - MIN_SPAN_BUCKETS * MINUTE);
  if (!(to > from)) return [];
  const size =
    BUCKET_SIZES.find((s) => Math.ceil((to - Math.floor(from / s) * s) / s) <= maxBuckets) ??
    BUCKET_SIZES[BUCKET_SIZES.length - 1]!;
  const first = Math.floor(from / size) * size;
  const count = Math.max(1, Math.min(Math.ceil((to - first) / size), maxBuckets));
  const allowed = new Array<number>(count).fill(0);
  const denied = new Array<number>(count).fill(0);
  entries.forEach((entry) => {
    const t = Date.parse(entry.occurredAt);
    if (!Number.isFinite(t) || t < first) return;
    const index = Math.floor((t - first) / size);
    if (index >= count) return;
    if (entry.outcome === 'denied') denied[index]!++;
    else allowed[index]!++;
  });
  return allowed.map((a, i) => ({
    start: first + i * size,
    end: first + (i + 1) * size,
    allowed: a,
    denied: denied[i]!,
  }));
}

export interface ChartBox {
  /** Whole drawing, in SVG user units. */
  readonly width: number;
  readonly height: number;
  /** Room left of and below the plot for the axis labels. */
  readonly left: number;
  readonly bottom: number;
  readonly top: number;
}

export interface Bar {
  readonly bucket: VolumeBucket;
  readonly x: number;
  readonly width: number;
  /** Allowed at the bottom of the stack, denied on top. Heights are in user units. */
  readonly allowedY: number;
  readonly allowedHeight: number;
  readonly deniedY: number;
  readonly deniedHeight: number;
}

export interface ChartLayout {
  readonly bars: readonly Bar[];
  /** The count the top of the plot stands for (the largest bucket, at least 1). */
  readonly max: number;
  /** y of the plot's baseline and top. */
  readonly baseline: number;
  readonly plotTop: number;
}

/** Stacked bars for `buckets` in `box`: heights proportional to the counts, the largest reaching the top. */
export function barLayout(buckets: readonly VolumeBucket[], box: ChartBox): ChartLayout {
  const baseline = box.height - box.bottom;
  const plotHeight = baseline - box.top;
  const max = Math.max(1, ...buckets.map((b) => b.allowed + b.denied));
  const slot = buckets.length ? (box.width - box.left) / buckets.length : 0;
  const gap = Math.min(4, slot * 0.2);
  const bars = buckets.map((bucket, i): Bar => {
    const allowedHeight = (bucket.allowed / max) * plotHeight;
    const deniedHeight = (bucket.denied / max) * plotHeight;
    const allowedY = baseline - allowedHeight;
    return {
      bucket,
      x: box.left + i * slot + gap / 2,
      width: Math.max(slot - gap, 1),
      allowedY,
      allowedHeight,
      deniedY: allowedY - deniedHeight,
      deniedHeight,
    };
  });
  return { bars, max, baseline, plotTop: box.top };
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** A bucket's start as a short label: the date for day-wide buckets, else date and time. */
export function bucketLabel(bucket: VolumeBucket): string {
  return (bucket.end - bucket.start >= DAY ? dateFormat : timeFormat).format(new Date(bucket.start));
}

/** `12 Mar, 14:00 – 15:00: 12 allowed, 3 denied`. */
export function bucketSummary(bucket: VolumeBucket): string {
  const end = new Date(bucket.end - 1);
  const until = (bucket.end - bucket.start >= DAY ? dateFormat : timeFormat).format(end);
  return `${bucketLabel(bucket)} – ${until}: ${bucket.allowed} allowed, ${bucket.denied} denied`;
}
