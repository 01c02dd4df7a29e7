// An AudioWorklet processor handing the microphone's samples (Float32, mono) to the page,
// which turns them into the WAV file a Record's recordingUrl serves.
class PcmCapture extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel && channel.length) this.port.postMessage(channel.slice(0));
    return true;
  }
}

registerProcessor("pcm-capture", PcmCapture);
