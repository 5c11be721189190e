import { TestBed } from '@angular/core/testing';

import { byTestId } from '../testing/test-helpers';
import { AddressChip } from './address-chip';

describe('AddressChip', () => {
  const address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

  it('shows the address shortened, the full one on hover, and copies the full one', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });

    const fixture = TestBed.createComponent(AddressChip);
    fixture.componentRef.setInput('address', address);
    await fixture.whenStable();
    const root = fixture.nativeElement as HTMLElement;

    const text = root.querySelector('.address-chip__text')!;
    expect(text.textContent).toBe('0x7099…79C8');
    expect(text.getAttribute('title')).toBe(address);

    const copy = byTestId<HTMLButtonElement>(root, 'address-chip-copy');
    expect(copy.getAttribute('aria-label')).toBe('Copy the full address 0x7099…79C8');
    copy.click();
    await new Promise((r) => setTimeout(r));
    await fixture.whenStable();
    expect(writeText).toHaveBeenCalledWith(address);
    expect(copy.textContent?.trim()).toBe('Copied');
    Reflect.deleteProperty(navigator, 'clipboard');
  });
});
