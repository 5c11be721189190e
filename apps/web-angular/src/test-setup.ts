/**
 * Vitest setup for `ng test` (see vitest.config.ts), run before every spec file.
 *
 * 1. jsdom installs its own `Uint8Array` as the global one, while Node's crypto, `Buffer` and
 *    `TextEncoder` keep producing Node's. ethers checks `value instanceof Uint8Array`, so under jsdom a
 *    Node-made byte array is refused ("invalid BytesLike value"). Browsers have one `Uint8Array`;
 *    restoring Node's makes the test realm behave like a browser here.
 * 2. jsdom has `<dialog>` but not `showModal()` / `close()`: a minimal stand-in that toggles `open`
 *    and fires `close`, enough for components that use the native dialog.
 */
const nodeBuffer = (globalThis as { Buffer?: { prototype: object } }).Buffer;
if (nodeBuffer) {
  const NodeUint8Array = Object.getPrototypeOf(nodeBuffer.prototype).constructor as Uint8ArrayConstructor;
  if (NodeUint8Array !== globalThis.Uint8Array) globalThis.Uint8Array = NodeUint8Array;
}

if (typeof HTMLDialogElement !== 'undefined' && !HTMLDialogElement.prototype.showModal) {
  HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
    this.open = true;
    this.querySelector<HTMLElement>('[autofocus]')?.focus();
  };
  HTMLDialogElement.prototype.close = function (this: HTMLDialogElement, returnValue?: string) {
    if (!this.open) return;
    if (returnValue !== undefined) this.returnValue = returnValue;
    this.open = false;
    this.dispatchEvent(new Event('close'));
  };
}
