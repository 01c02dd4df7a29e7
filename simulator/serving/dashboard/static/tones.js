// The phone's own sounds, made with Web Audio: the ring, the keypad's DTMF tones, the beep
// before a recording. Nothing is downloaded.

const DTMF = {
  1: [697, 1209], 2: [697, 1336], 3: [697, 1477],
  4: [770, 1209], 5: [770, 1336], 6: [770, 1477],
  7: [852, 1209], 8: [852, 1336], 9: [852, 1477],
  "*": [941, 1209], 0: [941, 1336], "#": [941, 1477],
};

let context = null;

function audio() {
  if (!context) context = new AudioContext();
  if (context.state === "suspended") context.resume();
  return context;
}

function tone(frequencies, seconds, volume = 0.08, delay = 0) {
  const ctx = audio();
  const gain = ctx.createGain();
  gain.gain.value = volume;
  gain.connect(ctx.destination);
  const start = ctx.currentTime + delay;
  for (const frequency of frequencies) {
    const oscillator = ctx.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(gain);
    oscillator.start(start);
    oscillator.stop(start + seconds);
  }
}

export function keyTone(key) {
  if (DTMF[key]) tone(DTMF[key], 0.15);
}

export function beep() {
  tone([1000], 0.4, 0.1);
}

// Ring until the returned function is called.
export function ring() {
  const burst = () => {
    tone([440, 480], 0.4);
    tone([440, 480], 0.4, 0.08, 0.6);
  };
  burst();
  const timer = setInterval(burst, 3000);
  return () => clearInterval(timer);
}
