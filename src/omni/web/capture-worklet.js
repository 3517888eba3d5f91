// capture-worklet.js — AudioWorklet processor for the microphone: device-rate float samples in, 24 kHz mono
// PCM16 chunks out (posted to the page every `chunkMs`, with the chunk's loudness for the level meter).
//
// Resampling is done properly rather than by dropping samples: when the device rate is above 24 kHz (48 kHz
// usually) a windowed-sinc low-pass removes what 24 kHz cannot carry (no aliasing), then each 24 kHz sample is a
// linear interpolation between the two filtered device samples around its instant. Runs on the audio thread.

const TAPS = 31; // low-pass length: plenty for speech, a few µs per block

/** A Blackman-windowed sinc low-pass with cutoff `cutoff` (cycles per input sample), gain 1 at DC. */
function lowPass(cutoff, taps) {
  const h = new Float32Array(taps);
  const middle = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - middle;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (taps - 1));
    h[i] = sinc * window;
    sum += h[i];
  }
  for (let i = 0; i < taps; i++) h[i] /= sum;
  return h;
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const settings = (options && options.processorOptions) || {};
    const targetRate = settings.targetRate || 24000;
    /** Device samples per 24 kHz sample (2 at 48 kHz). `sampleRate` is the context's rate (a worklet global). */
    this.step = sampleRate / targetRate;
    // Cut a little below the new Nyquist frequency (12 kHz): 0.45 × 24 kHz = 10.8 kHz.
    this.taps = this.step > 1.001 ? lowPass((0.45 * targetRate) / sampleRate, TAPS) : null;
    this.history = new Float32Array(TAPS); // the last TAPS device samples, a ring
    this.at = 0;
    this.previous = 0; // the filtered sample before the current one
    this.offset = 1; // where the next 24 kHz sample lies, in device samples after `previous` (0, 1]
    this.chunk = new Int16Array(Math.round((targetRate * (settings.chunkMs || 40)) / 1000));
    this.filled = 0;
    this.energy = 0; // sum of squares of the chunk, for its RMS
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "flush") this.emit(true); // push-to-talk release: send the tail now
    };
  }

  /** One device sample through the low-pass (or as it is when no downsampling is needed). */
  filter(x) {
    if (this.taps === null) return x;
    const n = TAPS;
    this.history[this.at] = x;
    this.at = (this.at + 1) % n;
    let y = 0;
    for (let i = 0, j = this.at; i < n; i++, j = (j + 1) % n) y += this.taps[i] * this.history[j];
    return y;
  }

  /** Output every 24 kHz sample that falls between the previous filtered sample and `current`. */
  feed(current) {
    while (this.offset <= 1) {
      const value = this.previous + (current - this.previous) * this.offset;
      this.push(value);
      this.offset += this.step;
    }
    this.offset -= 1;
    this.previous = current;
  }

  push(value) {
    const clamped = value > 1 ? 1 : value < -1 ? -1 : value;
    this.chunk[this.filled++] = clamped < 0 ? clamped * 32768 : clamped * 32767;
    this.energy += clamped * clamped;
    if (this.filled === this.chunk.length) this.emit(false);
  }

  /** Post what the chunk holds (transferring its buffer) and start a new one. */
  emit(final) {
    const pcm = this.chunk.slice(0, this.filled);
    const rms = this.filled ? Math.sqrt(this.energy / this.filled) : 0;
    this.port.postMessage({ type: "chunk", pcm: pcm.buffer, rms, final }, [pcm.buffer]);
    this.filled = 0;
    this.energy = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      const channels = input.length;
      const frames = input[0].length;
      for (let i = 0; i < frames; i++) {
        let x = input[0][i];
        if (channels > 1) {
          for (let c = 1; c < channels; c++) x += input[c][i];
          x /= channels;
        }
        this.feed(this.filter(x));
      }
    }
    return true; // keep running while the microphone is connected
  }
}

registerProcessor("omni-capture", CaptureProcessor);
