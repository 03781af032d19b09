// A short two-note chime made with Web Audio: no sound file to download.
let ctx: AudioContext | null = null;

export function chime(volume = 0.15) {
  try {
    ctx = ctx ?? new AudioContext();
    const t = ctx.currentTime;
    [660, 880].forEach((f, i) => {
      const o = ctx!.createOscillator();
      const g = ctx!.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t + i * 0.12);
      g.gain.exponentialRampToValueAtTime(volume, t + i * 0.12 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.25);
      o.connect(g).connect(ctx!.destination);
      o.start(t + i * 0.12);
      o.stop(t + i * 0.12 + 0.3);
    });
  } catch {
    /* no audio: fine */
  }
}
