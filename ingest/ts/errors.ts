// The in-process MPEG-TS remux's errors: stable codes, documented in docs/protocol.md.

export type TsErrorCode =
  | 'TS_BAD_PACKET'
  | 'TS_BAD_SECTION'
  | 'TS_BAD_PES'
  | 'TS_PES_TOO_LARGE'
  | 'TS_NO_PROGRAM'
  | 'TS_NO_TRACK'
  | 'TS_CODEC';

export class TsError extends Error {
  readonly code: TsErrorCode;
  constructor(code: TsErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'TsError';
    this.code = code;
  }
}
