// The product as people meet it, in real Chromium against the app started as `npm start -- --demo`
// starts it (temporary data folder): one story across four people's browsers, each with its own
// built-in wallet. The admin registers a new provider; the provider asks the patient for access; the
// patient allows it in two clicks; the provider sees the patient; they exchange end-to-end encrypted
// messages (the event store holds no plaintext); the patient uploads an encrypted lab result (FHIR) and
// the provider, granted lab results, opens and reads it; a video consultation connects two pages and the
// remote video plays; the patient revokes; the provider's next join is refused with the reason on
// screen; the compliance officer replays access as of a moment before the revocation (the grant is
// there) and after it (it is not). Screenshots of each step are saved under test-results/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Locator, Page } from 'playwright-core';
import { type Chromium, launchChromium } from './chromium';
import { type RunningProduct, startProduct } from './product';

const MNEMONIC = 'test test test test test test test test test test test junk';
const PASSPHRASE = 'a long passphrase for this browser';
const STEP_MS = 60_000;

let product: RunningProduct;
let chromium: Chromium;
const people: Record<'admin' | 'provider' | 'patient' | 'auditor', Page> = {} as never;
let providerAddress = '';
let patientAddress = '';
let beforeRevocation: Date;
const greeting = `Hello from the clinic, canary ${Date.now().toString(36)}`;
const reply = `Thank you, doctor, canary ${Math.random().toString(36).slice(2)}`;
const RECORD_TITLE = `Thyroid panel ${Date.now().toString(36)}`;
const LAB_RESULT = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '3016-3', display: 'TSH' }] },
  valueQuantity: { value: 2.1, unit: 'mIU/L' },
  effectiveDateTime: '2026-11-20',
};

const byTestId = (page: Page, id: string): Locator => page.getByTestId(id);

async function signedInAddress(page: Page): Promise<string> {
  const chip = byTestId(page, 'header-address');
  await chip.waitFor({ timeout: STEP_MS });
  return (await chip.getAttribute('data-address'))!.toLowerCase();
}

/** A new built-in wallet, created in the browser, then signed in. */
async function createWallet(page: Page): Promise<string> {
  await page.goto('/sign-in');
  await byTestId(page, 'sign-in-create-start').click();
  await byTestId(page, 'sign-in-new-passphrase').fill(PASSPHRASE);
  await byTestId(page, 'sign-in-new-passphrase-confirm').fill(PASSPHRASE);
  await byTestId(page, 'sign-in-create').click();
  await byTestId(page, 'sign-in-recovery-phrase').waitFor({ timeout: STEP_MS });
  await byTestId(page, 'sign-in-backup-confirm').check();
  await byTestId(page, 'sign-in-continue').click();
  return signedInAddress(page);
}

/** A demo account (development mnemonic, account `index`) restored in the built-in wallet. */
async function importDemoAccount(page: Page, index: number): Promise<string> {
  await page.goto('/sign-in');
  await byTestId(page, 'sign-in-import-start').click();
  await byTestId(page, 'sign-in-import-phrase').fill(MNEMONIC);
  await byTestId(page, 'sign-in-import-passphrase').fill(PASSPHRASE);
  await byTestId(page, 'sign-in-import-passphrase-confirm').fill(PASSPHRASE);
  await page.locator('summary', { hasText: 'More options' }).click();
  await byTestId(page, 'sign-in-import-account').fill(String(index));
  await byTestId(page, 'sign-in-import').click();
  return signedInAddress(page);
}

/**
 * A full page load forgets the unlocked built-in wallet (its key lives in memory only): signing then
 * asks for the passphrase in the field `testId`, which is filled when it is shown.
 */
async function passphraseIfAsked(page: Page, testId: string): Promise<void> {
  const field = byTestId(page, testId);
  if (await field.isVisible()) await field.fill(PASSPHRASE);
}

async function shot(page: Page, step: string): Promise<void> {
  await chromium.screenshot(page, step);
}

/** Runs a step; when it fails, every person's screen is saved to show why. */
function step(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    try {
      await body();
    } catch (error) {
      for (const [who, page] of Object.entries(people)) {
        await chromium.screenshot(page, `failed-${name.slice(0, 2)}-${who}`).catch(() => undefined);
      }
      throw error;
    }
  });
}

before(async () => {
  product = await startProduct();
  chromium = await launchChromium();
  for (const name of ['admin', 'provider', 'patient', 'auditor'] as const) {
    people[name] = (await chromium.person(name, product.url)).page;
  }
});

after(async () => {
  await chromium?.close();
  await product?.stop();
});

describe('the Custos story in Chromium', { concurrency: 1 }, () => {
  step('1. the provider and the patient create wallets in their browsers and sign in', async () => {
    providerAddress = await createWallet(people.provider);
    patientAddress = await createWallet(people.patient);
    assert.notEqual(providerAddress, patientAddress);
    await shot(people.patient, 'patient-signed-in');
  });

  step('2. the admin registers the provider with a transaction signed in the browser', async () => {
    const page = people.admin;
    const admin = await importDemoAccount(page, 0);
    assert.equal(admin, product.account('admin').address.toLowerCase());
    await page.goto('/admin');
    await byTestId(page, 'admin-role-select').selectOption('provider');
    await byTestId(page, 'admin-account-input').fill(providerAddress);
    await byTestId(page, 'admin-name-input').fill('Dr. Ada Lovelace');
    await byTestId(page, 'admin-specialty-input').fill('General practice');
    await passphraseIfAsked(page, 'admin-passphrase');
    await byTestId(page, 'admin-register-button').click();
    await page
      .locator(`[data-testid="action-progress"][data-step="confirmed"]`)
      .first()
      .waitFor({ timeout: STEP_MS });
    // Once the chain mirror has seen the transaction, the provider is listed with the profile.
    const row = page.locator(`[data-testid="role-row-provider"][data-address="${providerAddress}" i]`);
    await row.waitFor({ timeout: STEP_MS });
    assert.match(await row.innerText(), /Dr\. Ada Lovelace/);
    await shot(page, 'admin-registered-provider');
  });

  step('3. the provider asks the patient for access to telehealth, messaging and lab results', async () => {
    const page = people.provider;
    for (const category of ['telehealth', 'messaging', 'lab_results']) {
      await page.goto('/provider/request-access');
      await byTestId(page, 'request-patient').fill(patientAddress);
      await byTestId(page, 'request-category').selectOption(category);
      await byTestId(page, 'request-purpose').fill(`Follow-up care by video and messages (${category})`);
      await byTestId(page, 'request-duration').fill('30');
      await byTestId(page, 'request-submit').click();
      await byTestId(page, 'request-sent').waitFor({ timeout: STEP_MS });
    }
    await shot(page, 'provider-requested-access');
  });

  step('4. the patient allows each request in two clicks: the grants are confirmed on-chain', async () => {
    const page = people.patient;
    await page.goto('/patient');
    for (const category of ['telehealth', 'messaging', 'lab_results']) {
      const row = page.locator(`[data-testid="request-row"][data-category="${category}"]`);
      await row.waitFor({ timeout: STEP_MS });
      await row.getByTestId('request-allow').click();
      await byTestId(page, 'allow-panel').waitFor();
      await passphraseIfAsked(page, 'allow-passphrase');
      await byTestId(page, 'request-sign-allow').click();
      await page
        .locator(`[data-testid="grant-row"][data-category="${category}"]`)
        .waitFor({ timeout: STEP_MS });
    }
    await shot(page, 'patient-granted');
  });

  step('5. the provider sees the patient', async () => {
    const page = people.provider;
    await page.goto('/provider');
    const rows = page.locator(`[data-testid="provider-patient-row"][data-patient="${patientAddress}"]`);
    await rows.first().waitFor({ timeout: STEP_MS });
    await shot(page, 'provider-sees-patient');
  });

  step('6. they exchange messages; both screens show them; the event store holds no plaintext', async () => {
    // The patient opens Messages once (this registers their encryption key), then the provider writes.
    const patient = people.patient;
    await patient.goto('/patient/messages');
    await byTestId(patient, 'unlock-messages').waitFor({ timeout: STEP_MS });
    await passphraseIfAsked(patient, 'unlock-passphrase');
    await byTestId(patient, 'unlock-messages').click();
    await byTestId(patient, 'unlock-messages').waitFor({ state: 'detached', timeout: STEP_MS });

    const provider = people.provider;
    await provider.goto('/provider/messages');
    await byTestId(provider, 'unlock-messages').waitFor({ timeout: STEP_MS });
    await passphraseIfAsked(provider, 'unlock-passphrase');
    await byTestId(provider, 'unlock-messages').click();
    const counterpart = byTestId(provider, 'new-conversation-counterpart');
    await counterpart.waitFor({ timeout: STEP_MS });
    await counterpart.selectOption(patientAddress);
    await byTestId(provider, 'new-conversation-submit').click();
    await byTestId(provider, 'message-input').fill(greeting);
    await byTestId(provider, 'send-button').click();
    await provider.getByTestId('message-text').filter({ hasText: greeting }).waitFor({ timeout: STEP_MS });

    await byTestId(patient, 'conversation-row').first().waitFor({ timeout: STEP_MS });
    await byTestId(patient, 'conversation-row').first().getByTestId('conversation-link').click();
    await patient.getByTestId('message-text').filter({ hasText: greeting }).waitFor({ timeout: STEP_MS });
    await byTestId(patient, 'message-input').fill(reply);
    await byTestId(patient, 'send-button').click();
    await provider.getByTestId('message-text').filter({ hasText: reply }).waitFor({ timeout: STEP_MS });
    await shot(patient, 'patient-messages');
    await shot(provider, 'provider-messages');

    const db = new Database(path.join(product.dataDir, 'events.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT data, metadata FROM events').all() as {
        data: string;
        metadata: string;
      }[];
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.ok(!row.data.includes('canary') && !row.metadata.includes('canary'), 'no plaintext in events');
      }
      const sent = db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'MessageSent'").get() as {
        n: number;
      };
      assert.ok(sent.n >= 2, 'the messages are in the event store, as ciphertext');
    } finally {
      db.close();
    }
  });

  step(
    '7. the patient uploads a lab result; the provider, granted lab results, opens and reads it',
    async () => {
      const patient = people.patient;
      await patient.goto('/patient/records');
      await byTestId(patient, 'records-unlock').waitFor({ timeout: STEP_MS });
      await passphraseIfAsked(patient, 'records-unlock-passphrase');
      await byTestId(patient, 'records-unlock').click();
      await byTestId(patient, 'record-format-fhir').check({ timeout: STEP_MS });
      await byTestId(patient, 'record-fhir').fill(JSON.stringify(LAB_RESULT));
      await byTestId(patient, 'record-title').fill(RECORD_TITLE);
      await byTestId(patient, 'record-category').selectOption('lab_results');
      await byTestId(patient, 'record-upload').click();
      await patient
        .locator('[data-testid="upload-progress"][data-step="confirmed"]')
        .waitFor({ timeout: STEP_MS });
      await patient
        .getByTestId('record-row-title')
        .filter({ hasText: RECORD_TITLE })
        .waitFor({ timeout: STEP_MS });
      await shot(patient, 'patient-uploaded-record');

      const provider = people.provider;
      await provider.goto(`/provider/patients/${patientAddress}/records`);
      const unlock = byTestId(provider, 'records-unlock');
      await unlock.waitFor({ timeout: STEP_MS });
      await passphraseIfAsked(provider, 'records-unlock-passphrase');
      await unlock.click();
      await byTestId(provider, 'record-open').first().click({ timeout: STEP_MS });
      await byTestId(provider, 'record-viewer-title')
        .filter({ hasText: RECORD_TITLE })
        .waitFor({ timeout: STEP_MS });
      // The FHIR Observation, decrypted in the provider's browser, shown as labelled fields.
      const value = provider.locator('[data-testid="fhir-field"][data-label="Value"]');
      await value.waitFor({ timeout: STEP_MS });
      assert.match(await value.innerText(), /2\.1 mIU\/L/);
      await shot(provider, 'provider-reads-record');

      // The server stored ciphertext only: neither the result nor the title is in any event.
      const db = new Database(path.join(product.dataDir, 'events.sqlite'), { readonly: true });
      try {
        const rows = db.prepare('SELECT data FROM events').all() as { data: string }[];
        for (const r of rows) {
          assert.ok(
            !r.data.includes(RECORD_TITLE) && !r.data.includes('mIU/L'),
            'no record plaintext in events',
          );
        }
      } finally {
        db.close();
      }
    },
  );

  step(
    '8. a video consultation: the provider schedules, both join, each sees the other’s video',
    async () => {
      const provider = people.provider;
      await provider.goto('/provider/consultations/new');
      await byTestId(provider, 'schedule-patient').selectOption(patientAddress);
      await byTestId(provider, 'schedule-category').selectOption('telehealth');
      await byTestId(provider, 'schedule-duration').fill('30');
      await byTestId(provider, 'schedule-mode-video').check();
      await byTestId(provider, 'schedule-submit').click();
      await byTestId(provider, 'session-join').click({ timeout: STEP_MS });

      const patient = people.patient;
      await patient.goto('/patient/consultations');
      await byTestId(patient, 'session-join').first().click({ timeout: STEP_MS });

      // Frames decoded by the remote <video> (the DOM runs in the page: typed loosely here).
      const decodedFrames = `(() => {
      const video = document.querySelector('[data-testid="remote-video"]');
      return video ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
    })()`;
      for (const page of [provider, patient]) {
        // Polled from here: waitForFunction compiles its predicate in the page, which the app's CSP
        // (no 'unsafe-eval') refuses.
        const deadline = Date.now() + STEP_MS;
        while (((await page.evaluate(decodedFrames)) as number) === 0) {
          assert.ok(Date.now() < deadline, 'no remote video frame decoded');
          await page.waitForTimeout(100);
        }
        const first = (await page.evaluate(decodedFrames)) as number;
        await page.waitForTimeout(1_000);
        assert.ok(
          ((await page.evaluate(decodedFrames)) as number) > first,
          'the remote video frames advance',
        );
      }
      await shot(provider, 'provider-in-call');
      await shot(patient, 'patient-in-call');
    },
  );

  step('9. the patient revokes; the provider’s next join is refused and the screen says why', async () => {
    const patient = people.patient;
    beforeRevocation = new Date();
    // The replay form asks as of a whole second, and a block's time is a whole second too: on a fast
    // machine the revocation was mined within the second asked about, and so counted as before it.
    await new Promise((resolve) => setTimeout(resolve, 1_050 - (Date.now() % 1_000)));
    await patient.goto('/patient');
    const grant = patient.locator(`[data-testid="grant-row"][data-category="telehealth"]`);
    await grant.getByTestId('grant-revoke').click();
    const dialog = grant.getByTestId('revoke-dialog');
    await dialog.waitFor();
    const passphrase = dialog.getByTestId('revoke-passphrase');
    if (await passphrase.isVisible()) await passphrase.fill(PASSPHRASE);
    await dialog.getByTestId('revoke-dialog-confirm').click();
    await grant.waitFor({ state: 'detached', timeout: STEP_MS });
    await shot(patient, 'patient-revoked');

    const provider = people.provider;
    await provider.goto('/provider/consultations');
    await byTestId(provider, 'session-join').first().click({ timeout: STEP_MS });
    const refusal = byTestId(provider, 'call-refusal');
    await refusal.waitFor({ timeout: STEP_MS });
    assert.match((await refusal.innerText()).toLowerCase(), /consent|permission|access/);
    await shot(provider, 'provider-join-refused');
  });

  step('10. the compliance officer replays access before and after the revocation', async () => {
    const page = people.auditor;
    await importDemoAccount(page, 4);
    const replay = async (asOf: Date) => {
      await page.goto('/compliance/replay');
      await byTestId(page, 'replay-patient').fill(patientAddress);
      const local = new Date(asOf.getTime() - asOf.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
      await byTestId(page, 'replay-as-of').fill(local);
      await byTestId(page, 'replay-submit').click();
      await page
        .locator('[data-testid="replay-result"], [data-testid="replay-empty"]')
        .first()
        .waitFor({ timeout: STEP_MS });
      // Categories are shown in plain words: telehealth is "video consultations".
      return page
        .locator('[data-testid="replay-row"]')
        .filter({ hasText: /video consultation/i })
        .count();
    };
    assert.ok((await replay(beforeRevocation)) > 0, 'the telehealth grant was there before the revocation');
    await shot(page, 'compliance-replay-before');
    assert.equal(await replay(new Date()), 0, 'and not after it');
    await shot(page, 'compliance-replay-after');
  });
});
