// playback-worklet.js — AudioWorklet processor that plays the assistant's 24 kHz audio at the context's rate.
//
// A jitter buffer: playback starts once `prebufferMs` is queued (or the reply has ended), plays through short gaps
// as silence, and waits for `prebufferMs` again after a gap longer than `rebufferAfterMs`. Samples are resampled
// 24 kHz → context rate by linear interpolation. Every sample is counted per conversation item as it is played, so
// the page knows how much of each item the person actually heard (what `conversation.item.truncate` needs).
//
// Paused (while the server holds speech that may be a turn), the queue and the position in it are kept: the sound
// fades out over `PAUSE_FADE_MS` (those samples are played, and counted), then nothing is pulled, counted or reported
// until "resume", which fades back in from where it stopped. Audio that comes meanwhile is queued; a reply that ends
// meanwhile stays queued. "flush" ends a pause too (what was queued is dropped).
//
// Messages in:  {type: "audio", itemId, samples: Float32Array}, {type: "end"} (no more audio for this reply),
//               {type: "flush", id} (stop now, drop what is queued), {type: "pause"}, {type: "resume"}.
// Messages out: {type: "started"}, {type: "idle", frames}, {type: "progress", frames, itemId, itemMs},
//               {type: "flushed", id, frames, items: {itemId: playedMs}} — the items that were sounding or queued,
//               {type: "paused", frames} (silent now; `frames` stays put until "resumed"), {type: "resumed", frames}.

const PAUSE_FADE_MS = 10;

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const settings = (options && options.processorOptions) || {};
    this.sourceRate = settings.sourceRate || 24000;
    this.step = this.sourceRate / sampleRate; // source samples per output frame (0.5 at 48 kHz)
    this.prebuffer = Math.round((this.sourceRate * (settings.prebufferMs ?? 100)) / 1000);
    this.rebufferAfter = Math.round((sampleRate * (settings.rebufferAfterMs ?? 300)) / 1000);
    this.reportEvery = Math.round(sampleRate * 0.05);

    /** @type {{itemId: string, data: Float32Array, at: number}[]} */
    this.queue = [];
    this.queued = 0; // source samples waiting in `queue`
    this.state = "idle"; // idle → buffering → playing ⇄ gap → idle
    this.ended = true; // the current reply sent all its audio
    // Interpolation: the output lies `frac` of the way from s0 to s1; s1 belongs to item `itemId`.
    this.s0 = 0;
    this.s1 = 0;
    this.frac = 0;
    this.itemId = null;
    /** @type {Map<string, number>} source samples played, by item */
    this.played = new Map();
    this.frames = 0; // output frames of audio played (silence while idle is not counted)
    this.gapFrames = 0;
    this.sinceReport = 0;
    this.last = 0; // the last value output
    this.fade = 0; // after a flush: the level that ramps to silence over a few ms (a hard stop would click)
    this.fadeStep = 1 / Math.round(sampleRate * 0.005);
    // Pause: the gain ramps 1 → 0 (pausing) and back (resuming) over PAUSE_FADE_MS; at 0 nothing moves.
    this.paused = false;
    this.gain = 1;
    this.gainStep = 1 / Math.round((sampleRate * PAUSE_FADE_MS) / 1000);
    this.pauseReported = false; // "paused" went out for this pause (once the fade reached silence)
    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  onMessage(message) {
    if (message.type === "audio") {
      if (message.samples.length === 0) return;
      this.queue.push({ itemId: message.itemId, data: message.samples, at: 0 });
      this.queued += message.samples.length;
      if (!this.played.has(message.itemId)) this.played.set(message.itemId, 0);
      this.ended = false;
      if (this.state === "idle") this.state = "buffering";
    } else if (message.type === "end") {
      this.ended = true;
    } else if (message.type === "pause") {
      this.paused = true;
    } else if (message.type === "resume") {
      // Resumed before the fade reached silence: it ramps back up from where it got to, and nothing is reported.
      if (this.paused && this.pauseReported) this.port.postMessage({ type: "resumed", frames: this.frames });
      this.paused = false;
      this.pauseReported = false;
    } else if (message.type === "flush") {
      const items = {};
      const sounding = this.state === "playing" || this.state === "gap" ? this.itemId : null;
      for (const id of [sounding, ...this.queue.map((chunk) => chunk.itemId)]) {
        if (id !== null && !(id in items)) items[id] = ((this.played.get(id) || 0) * 1000) / this.sourceRate;
      }
      this.queue = [];
      this.queued = 0;
      this.ended = true;
      this.fade = this.last;
      this.paused = false;
      this.pauseReported = false;
      this.gain = 1; // the next reply starts at full level (a start is silent-to-sound anyway)
      this.toIdle(false);
      this.port.postMessage({ type: "flushed", id: message.id, frames: this.frames, items });
    }
  }

  /** The next queued source sample (and which item it belongs to), or null when the queue is empty. */
  pull() {
    while (this.queue.length > 0) {
      const chunk = this.queue[0];
      if (chunk.at < chunk.data.length) {
        this.queued--;
        this.itemId = chunk.itemId;
        this.played.set(chunk.itemId, (this.played.get(chunk.itemId) || 0) + 1);
        return chunk.data[chunk.at++];
      }
      this.queue.shift();
    }
    return null;
  }

  /** Begin sounding from where the output is (silence, or a fading cut), so a start never clicks. */
  begin() {
    const first = this.pull();
    if (first === null) return false;
    this.s0 = this.last;
    this.s1 = first;
    this.frac = 0;
    this.gapFrames = 0;
    return true;
  }

  toIdle(report = true) {
    this.state = "idle";
    this.itemId = null;
    this.s0 = this.s1 = this.frac = 0;
    if (report) this.port.postMessage({ type: "idle", frames: this.frames });
    // Keep the per-item counts small: an item that is neither queued nor sounding is finished with.
    if (this.played.size > 64) this.played = new Map([...this.played].slice(-16));
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    if (!out) return true;
    for (let i = 0; i < out.length; i++) {
      if (this.paused && (this.gain === 0 || this.state !== "playing")) {
        // Paused, and faded out (or nothing was sounding): everything stays where it is, a gap does not grow into
        // a rebuffer, a reply that has ended does not go idle.
        this.gain = 0;
        if (!this.pauseReported) {
          this.pauseReported = true;
          this.port.postMessage({ type: "paused", frames: this.frames });
        }
        if (this.fade !== 0) this.fade = Math.abs(this.fade) <= this.fadeStep ? 0 : this.fade - Math.sign(this.fade) * this.fadeStep;
        out[i] = this.last = this.fade;
        continue;
      }
      if (this.state === "buffering" || this.state === "gap") {
        const ready = this.state === "gap" ? this.queued > 0 : this.queued >= this.prebuffer || (this.ended && this.queued > 0);
        if (ready && this.begin()) {
          if (this.state === "buffering") this.port.postMessage({ type: "started" });
          this.state = "playing";
        } else if (this.ended && this.queued === 0) {
          this.toIdle();
        } else if (this.state === "gap" && ++this.gapFrames > this.rebufferAfter) {
          this.state = "buffering"; // a long gap: gather `prebufferMs` again before going on
        }
      }
      if (this.state !== "playing") {
        // Silence; right after a flush, a 5 ms ramp from where the sound was cut.
        if (this.fade !== 0) this.fade = Math.abs(this.fade) <= this.fadeStep ? 0 : this.fade - Math.sign(this.fade) * this.fadeStep;
        out[i] = this.last = this.fade;
        continue;
      }
      this.fade = 0;
      if (this.paused) this.gain = Math.max(0, this.gain - this.gainStep);
      else if (this.gain < 1) this.gain = Math.min(1, this.gain + this.gainStep);
      out[i] = this.last = (this.s0 + (this.s1 - this.s0) * this.frac) * this.gain;
      this.frames++;
      this.frac += this.step;
      while (this.frac >= 1) {
        this.frac -= 1;
        this.s0 = this.s1;
        const next = this.pull();
        if (next === null) {
          // Ran dry: silence until more comes (a gap), or stop if the reply is over.
          this.s1 = 0;
          this.state = this.ended ? "draining" : "gap";
          this.fade = this.last;
          break;
        }
        this.s1 = next;
      }
      if (this.state === "draining") {
        this.toIdle();
      } else if (this.state === "gap") {
        this.s0 = 0;
        this.frac = 0;
        this.gapFrames = 0;
      }
    }
    this.sinceReport += out.length;
    if (this.sinceReport >= this.reportEvery && this.state !== "idle" && !(this.paused && this.gain === 0)) {
      this.sinceReport = 0;
      const itemMs = this.itemId ? ((this.played.get(this.itemId) || 0) * 1000) / this.sourceRate : 0;
      this.port.postMessage({ type: "progress", frames: this.frames, itemId: this.itemId, itemMs });
    }
    // Output channels beyond the first (if the node was given more) get the same samples.
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor("omni-playback", PlaybackProcessor);
