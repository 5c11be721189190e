import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import { FakeSocket } from '../testing/call-fakes';
import {
  PATIENT_ADDRESS,
  PROVIDER_ADDRESS,
  byTestId,
  nextRequest,
  signInForTest,
  until,
} from '../testing/test-helpers';
import type { SessionView } from './consultation-api';
import { ConsultationRoom } from './consultation-room';
import { REMOVAL_REASONS, SIGNAL_CLOSE } from './signalling-protocol';

@Component({ template: '<h1>Consultation page</h1>' })
class DetailStub {}

const SESSION: SessionView = {
  id: 's1',
  provider: PROVIDER_ADDRESS.toLowerCase(),
  patient: PATIENT_ADDRESS.toLowerCase(),
  category: 'general',
  mode: 'video',
  startsAt: new Date(Date.now() - 60_000).toISOString(),
  endsAt: new Date(Date.now() + 30 * 60_000).toISOString(),
  status: 'live',
  role: 'provider',
  participants: [
    { address: PROVIDER_ADDRESS.toLowerCase(), role: 'provider', admitted: true, joined: false },
    { address: PATIENT_ADDRESS.toLowerCase(), role: 'patient', admitted: true, joined: true },
  ],
  recordingConsent: false,
  endedBy: null,
  endReason: null,
  missing: null,
};

describe('ConsultationRoom', () => {
  beforeEach(async () => {
    FakeSocket.created = [];
    TestBed.configureTestingModule({
      providers: [
        provideRouter([
          { path: 'consultations/:id', component: DetailStub },
          { path: 'consultations/:id/room', component: ConsultationRoom },
        ]),
        provideHttpClient(),
        provideHttpClientTesting(),
      ],
    });
    await signInForTest(['provider'], PROVIDER_ADDRESS);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    Reflect.deleteProperty(navigator, 'mediaDevices');
    sessionStorage.clear();
  });

  /** Opens the room and answers its loading of the consultation (and the directory). */
  async function openRoom() {
    const harness = await RouterTestingHarness.create('/consultations/s1/room');
    (await nextRequest('GET', '/sessions/s1')).flush(SESSION);
    (await nextRequest('GET', '/directory/providers')).flush({ items: [], nextCursor: null });
    return harness;
  }

  const text = (root: HTMLElement, id: string) => byTestId(root, id).textContent?.replace(/\s+/g, ' ').trim();

  it('says why, in plain words, when the credentials are refused (403 no_consent), and opens nothing', async () => {
    const getUserMedia = vi.fn();
    Object.defineProperty(navigator, 'mediaDevices', { value: { getUserMedia }, configurable: true });
    const harness = await openRoom();
    (await nextRequest('POST', '/sessions/s1/credentials')).flush(
      {
        statusCode: 403,
        code: 'no_consent',
        message:
          "the patient's consent for this consultation is not active (no grant for its category or for telehealth, or it expired or was revoked)",
      },
      { status: 403, statusText: 'Forbidden' },
    );
    const root = harness.routeNativeElement as HTMLElement;
    await until(() => !!root.querySelector('[data-testid="call-refusal"]'), 'the refusal');
    harness.detectChanges();
    const refusal = byTestId(root, 'call-refusal');
    expect(refusal.getAttribute('role')).toBe('alert');
    expect(text(root, 'call-refusal')).toContain('The patient has withdrawn consent for this consultation');
    expect(root.querySelector('[data-testid="call-rejoin"]')).toBeNull();
    expect(root.querySelector('[data-testid="remote-video"]')).toBeNull();
    expect(getUserMedia).not.toHaveBeenCalled();
    expect(FakeSocket.created).toHaveLength(0);
  });

  it('says when it is too early, with a way to try again', async () => {
    const harness = await openRoom();
    (await nextRequest('POST', '/sessions/s1/credentials')).flush(
      {
        statusCode: 403,
        code: 'too_early',
        message: 'too early: the room opens 15 minutes before the start',
      },
      { status: 403, statusText: 'Forbidden' },
    );
    const root = harness.routeNativeElement as HTMLElement;
    await until(() => !!root.querySelector('[data-testid="call-refusal"]'), 'the refusal');
    harness.detectChanges();
    expect(text(root, 'call-refusal')).toContain('The room opens 15 minutes before the start');
    expect(root.querySelector('[data-testid="call-rejoin"]')).not.toBeNull();
  });

  describe('in a WebRTC call', () => {
    beforeEach(() => {
      vi.stubGlobal(
        'WebSocket',
        class extends FakeSocket {
          constructor(url: string, protocols: string[]) {
            super(url, protocols);
          }
        },
      );
      // No camera or microphone in jsdom: the call goes on receive-only, and says so.
    });

    async function joinCall() {
      const harness = await openRoom();
      (await nextRequest('POST', '/sessions/s1/credentials')).flush({
        mode: 'webrtc',
        token: 'tok',
        iceServers: [],
        expiresAt: SESSION.endsAt,
      });
      await until(() => FakeSocket.created.length === 1, 'the signalling socket');
      const socket = FakeSocket.last();
      harness.detectChanges();
      return { harness, socket, root: harness.routeNativeElement as HTMLElement };
    }

    it('connects with the token, waits for the patient, and says why when put out', async () => {
      const { harness, socket, root } = await joinCall();
      expect(socket.protocols).toEqual(['custos', 'custos-token.tok']);
      expect(socket.url).toMatch(/^ws:\/\/.+\/sessions\/signal$/);
      expect(text(root, 'call-media-problem')).toContain('cannot use a camera or microphone');

      socket.receive({
        type: 'welcome',
        session: 's1',
        participant: PROVIDER_ADDRESS.toLowerCase(),
        role: 'provider',
        peers: [],
      });
      await until(() => /Waiting for/.test(text(root, 'call-status') ?? ''), 'waiting');
      expect(byTestId(root, 'local-video')).toBeTruthy();
      expect(byTestId(root, 'call-end')).toBeTruthy();
      expect(byTestId(root, 'call-leave')).toBeTruthy();

      socket.receive({
        type: 'removed',
        participant: PROVIDER_ADDRESS.toLowerCase(),
        reason: REMOVAL_REASONS.revoked,
      });
      socket.serverClose(SIGNAL_CLOSE.REMOVED, `removed: ${REMOVAL_REASONS.revoked}`);
      await until(() => !!root.querySelector('[data-testid="call-refusal"]'), 'the refusal');
      harness.detectChanges();
      expect(text(root, 'call-refusal')).toContain(
        'The patient has withdrawn consent for this consultation, so the call has ended for you.',
      );
      expect(root.querySelector('[data-testid="local-video"]')).toBeNull();
    });

    it('asks the credentials gate why when the socket never opened', async () => {
      const { harness, socket, root } = await joinCall();
      socket.serverClose(1006);
      (await nextRequest('POST', '/sessions/s1/credentials')).flush(
        { statusCode: 403, code: 'no_consent', message: 'not active' },
        { status: 403, statusText: 'Forbidden' },
      );
      await until(() => !!root.querySelector('[data-testid="call-refusal"]'), 'the refusal');
      harness.detectChanges();
      expect(text(root, 'call-refusal')).toContain('The patient has withdrawn consent for this consultation');
    });
  });
});
