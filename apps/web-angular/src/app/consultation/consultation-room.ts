import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  type ElementRef,
  Injector,
  afterNextRender,
  computed,
  effect,
  inject,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';

import { sameAddress } from '../core/address';
import { toApiError } from '../core/api-client';
import { ProviderDirectory } from '../core/provider-directory';
import { Session } from '../core/session';
import { ConfirmDialog } from '../shared/confirm-dialog';
import { LoadingState } from '../shared/loading-state';
import type { CallEngine, CallEvent, CallOutcome, RemoteParticipant } from './call-engine';
import { type CallCredentials, ConsultationApi, type SessionView } from './consultation-api';
import {
  type Refusal,
  capitalize,
  consultationTopic,
  counterpartName,
  credentialsRefusal,
  modeLabel,
  othersRemovalSentence,
  outcomeRefusal,
  participantName,
} from './consultation-text';
import { openLocalMedia, stopMedia } from './local-media';
import { CallViewDirective, MediaStreamDirective } from './media-stream';
import { RecordingConsentPanel } from './recording-consent';
import { TrtcCall } from './trtc-call';
import { WebRtcCall } from './webrtc-call';

/** Where the room is: loading the consultation and credentials, opening the call, in it, or out. */
type Stage = 'loading' | 'joining' | 'in-call' | 'stopped';

/** How long to wait for the server's `ended` after ending the consultation before hanging up. */
const END_WAIT_MS = 3000;

/**
 * The call (lazily loaded: only this route pulls the WebRTC and TRTC code).
 *
 * Joining asks the API for credentials first: a refusal (403 `{ code, message }`, e.g. the patient
 * withdrew consent) is said in plain words and nothing else happens. With `webrtc` credentials it then
 * opens the camera and microphone (the microphone only for audio consultations) and the call over the
 * signalling socket (see WebRtcCall); with `trtc` ones it loads the TRTC SDK and enters the room. When
 * the call stops for a reason other than hanging up (ended, removed, replaced, lost, …), the screen
 * says why (`call-refusal`); a socket that never opened is explained by asking for credentials again.
 */
@Component({
  selector: 'app-consultation-room',
  imports: [
    RouterLink,
    LoadingState,
    ConfirmDialog,
    MediaStreamDirective,
    CallViewDirective,
    RecordingConsentPanel,
  ],
  templateUrl: './consultation-room.html',
  styleUrl: './consultation-room.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConsultationRoom {
  private readonly api = inject(ConsultationApi);
  private readonly directory = inject(ProviderDirectory);
  private readonly session = inject(Session);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  private readonly injector = inject(Injector);
  private readonly id = this.route.snapshot.paramMap.get('id') ?? '';

  protected readonly stage = signal<Stage>('loading');
  protected readonly consultation = signal<SessionView | null>(null);
  protected readonly engine = signal<CallEngine | null>(null);
  protected readonly refusal = signal<Refusal | null>(null);
  protected readonly mediaProblem = signal('');
  protected readonly microphoneOn = signal(false);
  protected readonly cameraOn = signal(false);
  protected readonly hasMicrophone = signal(false);
  protected readonly hasCamera = signal(false);
  protected readonly announcement = signal('');
  protected readonly controlError = signal<string | null>(null);
  protected readonly ending = signal(false);

  protected readonly modeLabel = modeLabel;
  protected readonly topic = computed(() => consultationTopic(this.consultation()?.category ?? 'telehealth'));

  protected readonly video = computed(() => this.consultation()?.mode === 'video');
  protected readonly isProvider = computed(() =>
    sameAddress(this.consultation()?.provider, this.session.address()),
  );
  protected readonly isPatient = computed(() =>
    sameAddress(this.consultation()?.patient, this.session.address()),
  );
  protected readonly counterpart = computed(() => {
    const s = this.consultation();
    return s ? counterpartName(s, this.session.address(), (a) => this.directory.displayName(a)) : '';
  });
  protected readonly remotes = computed(() => this.engine()?.remotes() ?? []);
  protected readonly sharing = computed(() => this.engine()?.screenSharing() ?? false);
  protected readonly canShareScreen =
    typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getDisplayMedia === 'function';

  /** The sentence in the status line. */
  protected readonly statusText = computed(() => {
    switch (this.stage()) {
      case 'loading':
        return 'Opening the consultation…';
      case 'joining':
        return 'Connecting to the call…';
      case 'stopped':
        return this.refusal() ? 'You are not in the call.' : 'You left the call.';
      case 'in-call': {
        const engine = this.engine();
        if (engine?.phase() === 'connecting') return 'Connecting to the call…';
        const others = this.remotes();
        if (others.length === 0) return `You are in the call. Waiting for ${this.counterpart()} to join…`;
        const names = others.map((r) => this.nameOf(r.id, r.role)).join(', ');
        return `You are in the call with ${names}.`;
      }
    }
  });

  /** Draws TRTC video into the elements the template renders for it. */
  protected readonly attachView = (participant: string, element: HTMLElement | null): void =>
    this.engine()?.attachView?.(participant, element);

  private readonly refusalHeading = viewChild<ElementRef<HTMLElement>>('refusalHeading');
  private readonly confirmEnd = viewChild<ConfirmDialog>('confirmEnd');
  private localStream: MediaStream | null = null;
  private endedByMe = false;
  private destroyed = false;
  private endTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    effect(() => {
      const outcome = this.engine()?.outcome();
      if (outcome) untracked(() => void this.onOutcome(outcome));
    });
    effect(() => {
      if (!this.refusal()) return;
      // Once the refusal is on screen, move focus to it (keyboard and screen-reader users hear why).
      untracked(() =>
        afterNextRender(() => this.refusalHeading()?.nativeElement.focus(), { injector: this.injector }),
      );
    });
    inject(DestroyRef).onDestroy(() => {
      this.destroyed = true;
      clearTimeout(this.endTimer);
      this.engine()?.leave();
      stopMedia(this.localStream);
      this.localStream = null;
    });
    void this.join();
  }

  /** Loads the consultation, asks for credentials, then opens the call. */
  protected async join(): Promise<void> {
    this.engine()?.leave();
    this.engine.set(null);
    this.refusal.set(null);
    this.controlError.set(null);
    this.announcement.set('');
    this.endedByMe = false;
    this.stage.set('loading');

    let consultation: SessionView;
    let credentials: CallCredentials;
    try {
      consultation = await this.api.get(this.id);
      this.consultation.set(consultation);
      void this.directory.load().catch(() => undefined);
    } catch (error) {
      return this.refuse(credentialsRefusal(toApiError(error)));
    }
    try {
      credentials = await this.api.credentials(this.id);
    } catch (error) {
      return this.refuse(credentialsRefusal(toApiError(error), consultation.startsAt));
    }
    if (this.destroyed) return;
    this.stage.set('joining');

    const onEvent = (event: CallEvent) => this.announce(event);
    let engine: CallEngine;
    if (credentials.mode === 'webrtc') {
      const media = await openLocalMedia(consultation.mode);
      if (this.destroyed) {
        stopMedia(media.stream);
        return;
      }
      stopMedia(this.localStream);
      this.localStream = media.stream;
      this.mediaProblem.set(media.problem);
      this.hasMicrophone.set(media.hasAudio);
      this.microphoneOn.set(media.hasAudio);
      this.hasCamera.set(media.hasVideo && consultation.mode === 'video');
      this.cameraOn.set(media.hasVideo && consultation.mode === 'video');
      engine = new WebRtcCall({
        token: credentials.token,
        iceServers: credentials.iceServers,
        mode: consultation.mode,
        localStream: media.stream,
        onEvent,
      });
    } else {
      this.mediaProblem.set('');
      this.hasMicrophone.set(true);
      this.microphoneOn.set(true);
      this.hasCamera.set(consultation.mode === 'video');
      this.cameraOn.set(consultation.mode === 'video');
      engine = new TrtcCall({
        credentials,
        mode: consultation.mode,
        roles: new Map(consultation.participants.map((p) => [p.address.toLowerCase(), p.role])),
        onEvent,
      });
    }
    this.engine.set(engine);
    this.stage.set('in-call');
    await engine.start();
  }

  protected async toggleMicrophone(): Promise<void> {
    const on = !this.microphoneOn();
    await this.engine()?.setMicrophone(on);
    this.microphoneOn.set(on);
    this.announcement.set(on ? 'Your microphone is on.' : 'Your microphone is muted.');
  }

  protected async toggleCamera(): Promise<void> {
    const on = !this.cameraOn();
    await this.engine()?.setCamera(on);
    this.cameraOn.set(on);
    this.announcement.set(on ? 'Your camera is on.' : 'Your camera is off.');
  }

  protected async toggleScreenShare(): Promise<void> {
    const engine = this.engine();
    if (!engine) return;
    this.controlError.set(null);
    try {
      if (engine.screenSharing()) {
        await engine.stopScreenShare();
        this.announcement.set('You stopped sharing your screen.');
      } else {
        await engine.startScreenShare();
        if (engine.screenSharing()) this.announcement.set('You are sharing your screen.');
      }
    } catch (error) {
      const name = error && typeof error === 'object' && 'name' in error ? String(error.name) : '';
      // Cancelling the browser's picker is no error to report.
      if (name !== 'NotAllowedError' && name !== 'AbortError') {
        this.controlError.set('Your screen could not be shared.');
      }
    }
  }

  /** Hangs up and goes back to the consultation's page. */
  protected leave(): void {
    const engine = this.engine();
    if (engine && !engine.outcome()) engine.leave();
    else void this.backToDetail();
  }

  /** The consultation's provider ends it for everyone. */
  protected async end(): Promise<void> {
    if (!(await this.confirmEnd()?.open())) return;
    this.ending.set(true);
    this.controlError.set(null);
    try {
      await this.api.end(this.id);
      this.endedByMe = true;
      // The server tells everyone (`ended`) and closes the sockets; hang up if that does not come.
      this.endTimer = setTimeout(() => this.engine()?.leave(), END_WAIT_MS);
    } catch (error) {
      this.controlError.set(toApiError(error).message);
    } finally {
      this.ending.set(false);
    }
  }

  protected nameOf(address: string, role: string): string {
    return participantName(address, this.consultation(), role, (a) => this.directory.displayName(a));
  }

  protected remoteLabel(remote: RemoteParticipant): string {
    const name = capitalize(this.nameOf(remote.id, remote.role));
    switch (remote.state) {
      case 'waiting':
      case 'connecting':
        return `${name} (connecting…)`;
      case 'reconnecting':
        return `${name} (reconnecting…)`;
      case 'failed':
        return `${name} (connection failed)`;
      default:
        return name;
    }
  }

  protected onRecordingConsent(consent: boolean): void {
    this.consultation.update((s) => (s ? { ...s, recordingConsent: consent } : s));
    this.announcement.set(consent ? 'You allowed recording.' : 'You said no to recording.');
  }

  private async onOutcome(outcome: CallOutcome): Promise<void> {
    clearTimeout(this.endTimer);
    stopMedia(this.localStream);
    this.localStream = null;
    if (this.destroyed) return;
    if (outcome.kind === 'left' && !this.endedByMe) {
      this.stage.set('stopped');
      await this.backToDetail();
      return;
    }
    if (outcome.kind === 'unreachable') {
      // A refused upgrade tells the browser nothing: ask the credentials gate why.
      try {
        await this.api.credentials(this.id);
      } catch (error) {
        return this.refuse(credentialsRefusal(toApiError(error), this.consultation()?.startsAt));
      }
    }
    const refusal =
      outcome.kind === 'left'
        ? outcomeRefusal({ kind: 'ended' }, true)
        : outcomeRefusal(outcome, this.endedByMe);
    this.refuse(refusal);
  }

  private refuse(refusal: Refusal | null): void {
    stopMedia(this.localStream);
    this.localStream = null;
    this.announcement.set('');
    this.refusal.set(refusal);
    this.stage.set('stopped');
  }

  private announce(event: CallEvent): void {
    if (event.type === 'error') return; // protocol details, not for people
    const name = capitalize(this.nameOf(event.participant, event.role));
    switch (event.type) {
      case 'joined':
        this.announcement.set(`${name} joined the call.`);
        return;
      case 'left':
        this.announcement.set(`${name} left the call.`);
        return;
      case 'removed':
        this.announcement.set(
          othersRemovalSentence(this.nameOf(event.participant, event.role), event.reason, this.isPatient()),
        );
        return;
      case 'failed':
        this.announcement.set(
          `The connection to ${name} failed. Their network may block calls; leaving and joining again may help.`,
        );
        return;
    }
  }

  private async backToDetail(): Promise<void> {
    await this.router.navigate(['..'], { relativeTo: this.route });
  }
}
