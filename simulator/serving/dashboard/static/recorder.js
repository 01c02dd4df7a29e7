// Recording from the microphone for a Record: Web Audio captures the samples, the page
// down-samples them to 8 kHz mono 16-bit (telephone quality, like every recording the
// simulator serves) and writes a WAV file. No MediaRecorder container to convert: what is
// uploaded is already the file the app will download.

const RATE = 8000;

export class MicRecorder {
  constructor() {
    this.chunks = [];
    this.context = null;
    this.stream = null;
    this.level = 0;
  }

  // Start capturing; rejects when there is no microphone (or no permission for it).
  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("this page cannot use a microphone here (it needs localhost or https)");
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule("/_simulator/ui/pcm-capture.js");
    const source = this.context.createMediaStreamSource(this.stream);
    const capture = new AudioWorkletNode(this.context, "pcm-capture");
    capture.port.onmessage = (event) => {
      this.chunks.push(event.data);
      let peak = 0;
      for (const sample of event.data) peak = Math.max(peak, Math.abs(sample));
      this.level = peak;
    };
    const mute = this.context.createGain();
    mute.gain.value = 0;
    source.connect(capture).connect(mute).connect(this.context.destination);
    if (this.context.state === "suspended") await this.context.resume();
  }

  // Stop and return { wav: Blob, seconds } of everything captured.
  async stop() {
    const rate = this.context ? this.context.sampleRate : RATE;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    if (this.context) await this.context.close();
    this.stream = null;
    this.context = null;
    const samples = downsample(join(this.chunks), rate, RATE);
    this.chunks = [];
    return { wav: new Blob([wavFile(samples, RATE)], { type: "audio/wav" }), seconds: samples.length / RATE };
  }
}

function join(chunks) {
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const all = new Float32Array(length);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

// Average each output sample's span of input samples: a box filter against aliasing,
// enough for speech at telephone quality.
function downsample(samples, from, to) {
  if (from === to) return samples;
  const ratio = from / to;
  const out = new Float32Array(Math.floor(samples.length / ratio));
  for (let i = 0; i < out.length; i++) {
    const begin = Math.floor(i * ratio);
    const end = Math.min(Math.floor((i + 1) * ratio), samples.length);
    let sum = 0;
    for (let j = begin; j < end; j++) sum += samples[j];
    out[i] = end > begin ? sum / (end - begin) : 0;
  }
  return out;
}

function wavFile(samples, rate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (at, value) => [...value].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true); // size of the fmt chunk
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // bytes per frame
  view.setUint16(34, 16, true); // bits per sample
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const sample = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, sample < 0 ? sample * 0x8000 : sample * 0x7fff, true);
  }
  return buffer;
}
