import { formatDuration, timeLeft } from './time-left';

describe('time formatting', () => {
  const now = Date.UTC(2026, 10, 25, 12, 0, 0);
  const inSeconds = (s: number) => Math.floor(now / 1000) + s;

  it('says how long is left in plain words', () => {
    expect(timeLeft(inSeconds(30 * 86400), now)).toBe('30 days left');
    expect(timeLeft(inSeconds(86400 + 6 * 3600), now)).toBe('1 day 6 hours left');
    expect(timeLeft(inSeconds(2 * 3600 + 15 * 60), now)).toBe('2 hours 15 minutes left');
    expect(timeLeft(inSeconds(5 * 3600), now)).toBe('5 hours left');
    expect(timeLeft(inSeconds(45 * 60), now)).toBe('45 minutes left');
    expect(timeLeft(inSeconds(1 * 60), now)).toBe('1 minute left');
    expect(timeLeft(inSeconds(20), now)).toBe('less than a minute left');
    expect(timeLeft(inSeconds(0), now)).toBe('expired');
    expect(timeLeft(inSeconds(-100), now)).toBe('expired');
  });

  it('formats request durations', () => {
    expect(formatDuration(7 * 86400)).toBe('7 days');
    expect(formatDuration(3600)).toBe('1 hour');
    expect(formatDuration(90 * 86400)).toBe('90 days');
  });
});
