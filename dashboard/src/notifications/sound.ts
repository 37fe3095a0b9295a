/**
 * The notification chime, synthesised with the Web Audio API (no audio file, nothing fetched): two
 * short rising sine tones. Browsers start audio only after the page had a click or a key press, so
 * `unlockAudio` is called on the first one.
 */
let context: AudioContext | null = null;

function audio(): AudioContext | null {
  if (context) return context;
  const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return null;
  try {
    context = new Ctor();
  } catch {
    return null;
  }
  return context;
}

/** Creates and resumes the audio context from a user gesture, so later chimes can play. */
export function unlockAudio() {
  const c = audio();
  if (c && c.state === 'suspended') void c.resume().catch(() => undefined);
}

/** Plays the chime; false when this browser has no Web Audio. */
export function playChime(): boolean {
  const c = audio();
  if (!c) return false;
  if (c.state === 'suspended') void c.resume().catch(() => undefined);
  const start = c.currentTime + 0.02;
  const tones: [frequency: number, at: number, length: number][] = [
    [784, 0, 0.16],
    [1175, 0.12, 0.24],
  ];
  for (const [frequency, at, length] of tones) {
    const osc = c.createOscillator();
    const gain = c.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    const t = start + at;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.16, t + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + length);
    osc.connect(gain);
    gain.connect(c.destination);
    osc.start(t);
    osc.stop(t + length + 0.03);
  }
  return true;
}
