// The fMP4 splitter's errors: stable codes, documented in docs/protocol.md.

/** Error codes the splitter raises; stable, documented in docs/protocol.md. */
export type Fmp4ErrorCode =
  | 'FMP4_BOX_TOO_SMALL'
  | 'FMP4_BOX_TOO_LARGE'
  | 'FMP4_BAD_ORDER'
  | 'FMP4_BAD_BOX'
  | 'FMP4_INIT_TOO_LARGE';

export class Fmp4Error extends Error {
  readonly code: Fmp4ErrorCode;
  constructor(code: Fmp4ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'Fmp4Error';
    this.code = code;
  }
}
