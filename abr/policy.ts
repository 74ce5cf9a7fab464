// What the relay asks of ABR (relay/abr-switch.ts AbrPolicy, matched by shape: abr/ does not
// import relay/): the renditions running for a stream, and a switching rule per viewer.
import type { AbrLadder } from './ladder.js';
import { renditionStream } from './ladder.js';
import { decide, DEFAULT_SWITCH_RULES, initialSwitchState, type Ladder, type PathNow, type ProbeNow, type SwitchRules, type SwitchState } from './switch-rule.js';

export interface PolicyRenditions {
  renditions(stream: string): Array<{ name: string; height: number; bitrate: number; stream: string; up: boolean }>;
  viewer(): (path: PathNow, ladder: Ladder, current: number, now: number, probe?: ProbeNow) => Decision;
}

/** A viewer's rendition now, and the rate (bits/s) to probe its path for now; 0: no probe. */
export interface Decision {
  rendition: number;
  probeBps: number;
}

export function abrPolicy(ladder: AbrLadder, rules: SwitchRules = DEFAULT_SWITCH_RULES): PolicyRenditions {
  return {
    renditions: (stream) => ladder.renditions(stream).map((r) => ({ name: r.name, height: r.height, bitrate: r.videoBitrate, stream: renditionStream(stream, r.name), up: r.up })),
    viewer: () => {
      let s: SwitchState | null = null;
      return (path, l, current, now, probe) => {
        // The relay may have moved the viewer (a failing rendition sent it home): start from where it is.
        if (!s || s.current !== current) s = { ...(s ?? initialSwitchState(current, rules)), current };
        const asked = s.probeAskedAt;
        s = decide(s, path, l, now, rules, probe);
        const probeBps = s.probeAskedAt === now && asked !== now ? (l.bitrates[s.current - 1] ?? 0) : 0;
        return { rendition: s.current, probeBps };
      };
    },
  };
}
