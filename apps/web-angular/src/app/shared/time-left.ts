import { Pipe, type PipeTransform } from '@angular/core';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/**
 * A duration in plain words, rounded to its largest unit: `30 days`, `1 day 6 hours`, `2 hours`,
 * `45 minutes`, `less than a minute`.
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < MINUTE) return 'less than a minute';
  if (s >= DAY) {
    const days = Math.floor(s / DAY);
    const hours = Math.floor((s % DAY) / HOUR);
    return days < 7 && hours > 0 ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day');
  }
  if (s >= HOUR) {
    const hours = Math.floor(s / HOUR);
    const minutes = Math.floor((s % HOUR) / MINUTE);
    return hours < 3 && minutes > 0
      ? `${plural(hours, 'hour')} ${plural(minutes, 'minute')}`
      : plural(hours, 'hour');
  }
  return plural(Math.floor(s / MINUTE), 'minute');
}

/**
 * Time left until `expiresAt` (unix seconds) at `now` (ms): `3 days left`, `less than a minute left`,
 * or `expired`.
 */
export function timeLeft(expiresAt: number, now: number = Date.now()): string {
  const left = expiresAt - Math.floor(now / 1000);
  return left <= 0 ? 'expired' : `${formatDuration(left)} left`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A moment as people read it, in their locale: `12 Mar 2027, 14:05`. Unix seconds or ISO 8601. */
export function formatDateTime(value: number | string): string {
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateTime.format(date);
}

/** `{{ grant.expiresAt | timeLeft }}`: see `timeLeft()` (evaluated when the view is checked). */
@Pipe({ name: 'timeLeft' })
export class TimeLeftPipe implements PipeTransform {
  transform(expiresAt: number, now?: number): string {
    return timeLeft(expiresAt, now);
  }
}

/** `{{ request.durationSeconds | duration }}`: see `formatDuration()`. */
@Pipe({ name: 'duration' })
export class DurationPipe implements PipeTransform {
  transform(seconds: number): string {
    return formatDuration(seconds);
  }
}

/** `{{ entry.occurredAt | dateTime }}`: see `formatDateTime()`. */
@Pipe({ name: 'dateTime' })
export class DateTimePipe implements PipeTransform {
  transform(value: number | string): string {
    return formatDateTime(value);
  }
}
