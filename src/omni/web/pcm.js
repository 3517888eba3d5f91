// pcm.js — PCM16 ↔ base64 for the Realtime API's "audio/pcm" format (24 kHz, mono, 16-bit little-endian).

/** The Realtime API's PCM sample rate, both ways. */
export const PCM_RATE = 24000;

/**
 * Base64 of 16-bit little-endian samples (what `input_audio_buffer.append` carries).
 * @param {Int16Array} samples
 * @returns {string}
 */
export function int16ToBase64(samples) {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], true);
  let binary = "";
  const STEP = 0x8000; // String.fromCharCode takes a bounded number of arguments
  for (let i = 0; i < bytes.length; i += STEP) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + STEP));
  }
  return btoa(binary);
}

/**
 * Float samples in [-1, 1) from base64 PCM16 (what `response.output_audio.delta` carries).
 * @param {string} b64
 * @returns {Float32Array}
 */
export function base64ToFloat32(b64) {
  const binary = atob(b64);
  const count = binary.length >> 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let value = binary.charCodeAt(2 * i) | (binary.charCodeAt(2 * i + 1) << 8);
    if (value >= 0x8000) value -= 0x10000;
    out[i] = value / 32768;
  }
  return out;
}

/** Milliseconds of 24 kHz audio in `samples` samples. */
export function samplesToMs(samples) {
  return (samples * 1000) / PCM_RATE;
}
