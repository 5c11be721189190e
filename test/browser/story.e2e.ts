// The product as people meet it, in real Chromium against the app started as `npm start -- --demo`
// starts it (temporary data folder): one story across four people's browsers. Screenshots of each
// step are saved under test-results/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Chromium, launchChromium } from './chromium';
import { type RunningProduct, startProduct } from './product';

let product: RunningProduct;
let chromium: Chromium;

before(async () => {
  product = await startProduct();
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await product?.stop();
});

describe('the Custos story in Chromium', () => {
  test('the web app is served at the address npm start prints, with the API healthy behind it', async () => {
    const { page } = await chromium.person('newcomer', product.url);
    await page.goto('/');
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    assert.match(await page.title(), /Custos/);
    const health = await page.evaluate(
      async () => (await (await fetch('/health')).json()) as { status: string },
    );
    assert.equal(health.status, 'ok');
    await chromium.screenshot(page, 'home');
  });
});
