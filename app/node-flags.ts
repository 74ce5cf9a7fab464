// The V8 flags the server runs with, wherever it is started as a process of its own: `npm start`,
// `npm run demo`, the `nowcast` command (its shebang), and the benchmarks and tests that start it
// (test/app/node-flags.test.ts keeps them in step). Flags act on every isolate: the relay's, and
// the RTMP and operations threads'.
//
// --heap-growing-percent=50: after a full collection V8 lets each old generation grow by half of
// what is live before the next one, not by up to 4× (its default). Under bench:abuse's attack the
// process grew 27–29 MB over its baseline, against 43–58 MB without: that growth was V8 sizing
// three heaps for garbage, not memory the attack held. The young generation is left alone, so the
// fan-out hot path pays nothing (bench:fanout at 2,000 viewers: relay CPU 0.49–0.50 of a core
// against 0.49–0.62 without). --optimize-for-size went lower (22 MB) but cost ~13 % relay CPU.
// Measured on 2 × AMD EPYC, 2026-12-07 (bench/RESULTS.md, "Abuse (issue 20): every run kept by hand").
//
// --expose-gc: the RTMP and operations threads, which face attackers, collect their own garbage
// in 2 MiB steps (util/heap-step.ts); the relay's thread never forces one (a pause in the
// fan-out). bench:abuse peak 179–199 MB against 200–205 without (2026-12-07).
export const NODE_FLAGS: readonly string[] = ['--heap-growing-percent=50', '--expose-gc'];
