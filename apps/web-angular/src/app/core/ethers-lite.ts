/**
 * The parts of ethers the web app uses, in one module that is only ever loaded with `import()`
 * (`loadEthers()`), so ethers stays out of the initial bundle and only what is named here is bundled.
 */
export {
  HDNodeWallet,
  Mnemonic,
  TypedDataEncoder,
  Wallet,
  getAddress,
  hexlify,
  toUtf8Bytes,
  verifyMessage,
  verifyTypedData,
} from 'ethers';
export type { TypedDataDomain, TypedDataField } from 'ethers';
