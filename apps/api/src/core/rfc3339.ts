import { ValidateBy, type ValidationOptions } from 'class-validator';

// A full date-time with a zone, as RFC 3339 (the profile of ISO 8601 that every parser reads the same).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/** Every field in range, so `Date` cannot roll an impossible time (30 February, hour 24) into another. */
export function isRfc3339(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = RFC3339.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetOk = match[8] === 'Z' || (Number(match[9]) <= 23 && Number(match[10]) <= 59);
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetOk &&
    !Number.isNaN(Date.parse(value))
  );
}

/** A date-time such as `2026-03-01T12:00:00Z`: with seconds and a time zone, and a real date. */
export const IsRfc3339 = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isRfc3339',
      validator: {
        validate: isRfc3339,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be a date-time with seconds and a time zone, e.g. 2026-03-01T12:00:00Z`,
      },
    },
    options,
  );
