// The TRTC SDK's ESM build ships without its own declaration; trtc-call.ts types the part it uses.
declare module 'trtc-sdk-v5/trtc.esm.js' {
  const TRTC: unknown;
  export default TRTC;
}
