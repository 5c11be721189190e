import { Directive, ElementRef, effect, inject, input } from '@angular/core';

/**
 * Plays a MediaStream in a `<video>` or `<audio>` element (`srcObject` has no attribute to bind).
 *
 * `<video autoplay playsinline [appMediaStream]="stream"></video>`
 */
@Directive({ selector: 'video[appMediaStream], audio[appMediaStream]' })
export class MediaStreamDirective {
  readonly stream = input<MediaStream | null>(null, { alias: 'appMediaStream' });

  constructor() {
    const element = inject<ElementRef<HTMLMediaElement>>(ElementRef).nativeElement;
    effect(() => {
      const stream = this.stream();
      if (element.srcObject === stream) return;
      element.srcObject = stream;
      if (!stream) return;
      try {
        // Autoplay may be refused until the person interacts with the page; the controls stay usable.
        const playing = element.play?.() as Promise<void> | undefined;
        playing?.catch?.(() => undefined);
      } catch {
        // Not a real media element (tests).
      }
    });
  }
}

/** Gives an element to a callback when it is rendered, and `null` when it goes (TRTC draws into it). */
@Directive({ selector: '[appCallView]' })
export class CallViewDirective {
  readonly participant = input.required<string>({ alias: 'appCallView' });
  readonly attach = input.required<(participant: string, element: HTMLElement | null) => void>({
    alias: 'appCallViewAttach',
  });

  constructor() {
    const element = inject<ElementRef<HTMLElement>>(ElementRef).nativeElement;
    effect((onCleanup) => {
      const participant = this.participant();
      const attach = this.attach();
      attach(participant, element);
      onCleanup(() => attach(participant, null));
    });
  }
}
