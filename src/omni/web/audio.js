// audio.js — the page's audio: microphone capture (getUserMedia → capture worklet → 24 kHz PCM16 chunks) and
// playback (24 kHz float chunks → playback worklet with a jitter buffer), on one AudioContext at the device's rate.

import { PCM_RATE } from "./pcm.js";

const CHUNK_MS = 40;
const PREBUFFER_MS = 100;

/** Why the microphone could not start, in words a person can act on. */
export class MicError extends Error {
  /** @param {string} kind one of "denied", "missing", "busy", "insecure", "unsupported", "other" */
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/** Whether this browser has what voice needs; null if so, else a sentence saying what is missing. */
export function voiceSupportProblem() {
  if (!window.isSecureContext) {
    return "The microphone only works on a secure page: open Omni at http://127.0.0.1 or http://localhost, or over HTTPS.";
  }
  if (!("AudioWorkletNode" in window) || !window.AudioContext) {
    return "This browser cannot process audio in real time (no AudioWorklet). Use a current Chrome, Edge, Firefox or Safari, or type below.";
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return "This browser gives no access to a microphone (no getUserMedia). Use a current browser, or type below.";
  }
  return null;
}

/**
 * @typedef {{
 *   onChunk: (pcm: Int16Array, final: boolean) => void,
 *   onLevel: (rms: number) => void,
 *   onPlayback: (message: {type: string, frames?: number, itemId?: string, itemMs?: number}) => void,
 * }} AudioHandlers
 */

export class AudioEngine {
  /** @param {AudioHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    /** @type {AudioContext | null} */
    this.context = null;
    /** @type {Promise<AudioContext> | null} */
    this.starting = null;
    /** @type {AudioWorkletNode | null} */
    this.player = null;
    /** @type {AudioWorkletNode | null} */
    this.capture = null;
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {MediaStreamAudioSourceNode | null} */
    this.source = null;
    this.flushes = new Map(); // flush id → resolve
    this.flushCount = 0;
    this.micFlush = null; // resolve of a pending capture flush
    this.lastProgress = { itemId: null, itemMs: 0 };
  }

  get micOn() {
    return this.stream !== null;
  }

  /** The AudioContext with both worklets loaded; call it from a click or key press (autoplay rules). */
  async init() {
    if (!this.starting) {
      this.starting = this.create().catch((error) => {
        this.starting = null; // let a later click try again
        throw error;
      });
    }
    const context = await this.starting;
    if (context.state === "suspended") await context.resume();
    return context;
  }

  async create() {
    const context = new AudioContext({ latencyHint: "interactive" });
    await Promise.all([
      context.audioWorklet.addModule(new URL("./capture-worklet.js", import.meta.url)),
      context.audioWorklet.addModule(new URL("./playback-worklet.js", import.meta.url)),
    ]);
    const player = new AudioWorkletNode(context, "omni-playback", {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { sourceRate: PCM_RATE, prebufferMs: PREBUFFER_MS, rebufferAfterMs: 300 },
    });
    player.port.onmessage = (event) => this.onPlayerMessage(event.data);
    player.connect(context.destination);
    this.context = context;
    this.player = player;
    return context;
  }

  // ---- microphone ---------------------------------------------------------------------------------------------

  /** Open the microphone and start posting 24 kHz chunks to `onChunk`. Throws MicError. */
  async startMic() {
    if (this.stream) return;
    const problem = voiceSupportProblem();
    if (problem) throw new MicError(window.isSecureContext ? "unsupported" : "insecure", problem);
    const context = await this.init();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch (error) {
      throw micError(error);
    }
    const capture = new AudioWorkletNode(context, "omni-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { targetRate: PCM_RATE, chunkMs: CHUNK_MS },
    });
    capture.port.onmessage = (event) => this.onCaptureMessage(event.data);
    const source = context.createMediaStreamSource(stream);
    // The worklet must be pulled by the graph to run: route it to the speakers through a silent gain.
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(capture).connect(mute).connect(context.destination);
    this.stream = stream;
    this.source = source;
    this.capture = capture;
    for (const track of stream.getAudioTracks()) {
      track.addEventListener("ended", () => this.handlers.onMicEnded?.());
    }
  }

  stopMic() {
    if (!this.stream) return;
    for (const track of this.stream.getTracks()) track.stop();
    this.source?.disconnect();
    this.capture?.disconnect();
    if (this.capture) this.capture.port.onmessage = null;
    this.stream = this.source = this.capture = null;
    this.handlers.onLevel(0);
  }

  /** Ask the capture worklet for the part-chunk it holds (push-to-talk release); resolves once it has come. */
  flushMic() {
    if (!this.capture) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, 150); // a suspended context answers nothing: do not wait for ever
      const capture = this.capture;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.micFlush = done;
      capture.port.postMessage({ type: "flush" });
    });
  }

  onCaptureMessage(message) {
    if (message.type !== "chunk") return;
    const pcm = new Int16Array(message.pcm);
    if (pcm.length > 0) this.handlers.onChunk(pcm, message.final);
    this.handlers.onLevel(message.rms);
    if (message.final && this.micFlush) {
      const done = this.micFlush;
      this.micFlush = null;
      done();
    }
  }

  // ---- playback -----------------------------------------------------------------------------------------------

  /**
   * Queue 24 kHz samples of conversation item `itemId` for playback.
   * @param {string} itemId
   * @param {Float32Array} samples
   */
  play(itemId, samples) {
    if (!this.player) return false;
    this.player.port.postMessage({ type: "audio", itemId, samples }, [samples.buffer]);
    return true;
  }

  /** The reply sent all its audio: play out what is queued even if it is under the prebuffer. */
  endReply() {
    this.player?.port.postMessage({ type: "end" });
  }

  /**
   * Pause playback where it is (a short fade, no click), keeping what is queued: the server holds speech that may be
   * a turn. Audio that comes meanwhile is queued; `resumePlayback` goes on, `flushPlayback` drops it all.
   */
  pausePlayback() {
    this.player?.port.postMessage({ type: "pause" });
  }

  /** Go on playing from where `pausePlayback` stopped. */
  resumePlayback() {
    this.player?.port.postMessage({ type: "resume" });
  }

  /**
   * Stop playback at once. Resolves with the milliseconds played of each item that was sounding or queued.
   * @returns {Promise<Record<string, number>>}
   */
  flushPlayback() {
    const player = this.player;
    if (!player) return Promise.resolve({});
    const id = ++this.flushCount;
    return new Promise((resolve) => {
      const fallback = setTimeout(() => {
        // The worklet did not answer (suspended context): the last progress report is the best we know.
        this.flushes.delete(id);
        const { itemId, itemMs } = this.lastProgress;
        resolve(itemId ? { [itemId]: itemMs } : {});
      }, 200);
      this.flushes.set(id, (items) => {
        clearTimeout(fallback);
        resolve(items);
      });
      player.port.postMessage({ type: "flush", id });
    });
  }

  onPlayerMessage(message) {
    if (message.type === "flushed") {
      const resolve = this.flushes.get(message.id);
      this.flushes.delete(message.id);
      this.lastProgress = { itemId: null, itemMs: 0 };
      resolve?.(message.items);
    } else if (message.type === "progress") {
      this.lastProgress = { itemId: message.itemId, itemMs: message.itemMs };
    }
    this.handlers.onPlayback(message);
  }

  /** The context's sample rate (what `playedSamples` are counted at), or null before the first start. */
  get outputRate() {
    return this.context ? this.context.sampleRate : null;
  }
}

/** A getUserMedia failure as a MicError with a sentence a person understands. */
function micError(error) {
  const name = error && error.name;
  const lead = "Omni can't hear you: ";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return new MicError("denied", lead + "microphone access was denied. Allow it in the browser's site settings, or type below.");
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return new MicError("missing", lead + "no microphone was found. Connect one and press Start again, or type below.");
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return new MicError("busy", lead + "the microphone could not be opened (another app may be using it). Close it and press Start again, or type below.");
  }
  return new MicError("other", lead + `the microphone failed to start (${(error && error.message) || name || error}). You can type below.`);
}
