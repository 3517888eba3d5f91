// conversation.js — the Realtime conversation as the page sees it: server events → transcript turns, playback,
// latency and the flags the status is drawn from; and barge-in (stop the reply being heard, and tell the server how
// much of it was heard with `conversation.item.truncate`).
//
// Under Omni's turn-taking the server holds speech that starts during a reply until it knows it is a turn; the page
// asks for Omni's turn events (`omni_turn_events`, settings.js) and pauses the reply on
// `omni.input_audio_buffer.speech_held`, so an interruption sounds stopped at once, resumes it on `speech_ignored`
// (a backchannel, a cough), and flushes it on `input_audio_buffer.speech_started` as for any interruption.

import { base64ToFloat32, samplesToMs } from "./pcm.js";
import { recordEvent, showError, showLatency, stats } from "./ui.js";

/** Error codes that need no one's attention: a cancel that raced the reply's end, for instance. */
const QUIET_ERRORS = new Set(["response_cancel_not_active"]);
/** How long "thinking" may show after a turn with no reply begun (the server deleted a wordless turn, say). */
const REPLY_WAIT_MS = 30000;
/** The longest the page stays paused for held speech: the server decides within about a second (docs/turn-taking.md);
 * a decision that never comes (a lost connection, say) must not leave the reply silent for ever. */
const HOLD_LIMIT_MS = 5000;

export class Conversation {
  /**
   * @param {{client: import("./realtime.js").RealtimeClient, audio: import("./audio.js").AudioEngine,
   *   transcript: import("./transcript.js").Transcript, vision: import("./media.js").VisionSource,
   *   onChange: () => void, onHint: (text: string) => void}} parts
   */
  constructor({ client, audio, transcript, vision, onChange, onHint }) {
    this.client = client;
    this.audio = audio;
    this.transcript = transcript;
    this.vision = vision;
    this.onChange = onChange;
    this.onHint = onHint;
    /** The server's own session (from session.created): its default instructions, its model name. */
    this.serverSession = null;

    this.userSpeaking = false; // between speech_started and speech_stopped
    this.awaitingReply = false; // a turn ended; its reply has not begun
    this.playing = false; // the playback worklet is sounding (or buffering to)
    this.held = false; // the server holds speech that may be a turn: playback is paused
    this.holdTimer = 0;
    /** @type {string | null} */
    this.activeResponse = null;
    this.activeHasAudio = false;
    this.turnEndedAt = null; // performance.now() at the end of the last turn, until its first audio
    this.replyWatchdog = 0;
    /** @type {Set<string>} responses stopped by a barge-in: their late audio is dropped */
    this.stoppedResponses = new Set();
    /** @type {Set<string>} items cut by this page: their late audio is dropped, their turn shows the cut */
    this.cutItems = new Set();
    /** @type {Map<string, number>} ms of audio received, by assistant item */
    this.receivedMs = new Map();
    /** @type {Set<string>} items this page created (text, images): already shown as the person sent them */
    this.ownItems = new Set();

    const on = (type, handler) => client.on(type, handler.bind(this));
    on("*", (event) => recordEvent(event.type));
    on("session.created", (event) => (this.serverSession = event.session));
    on("input_audio_buffer.speech_started", this.speechStarted);
    on("omni.input_audio_buffer.speech_held", this.speechHeld);
    on("omni.input_audio_buffer.speech_ignored", this.speechIgnored);
    on("input_audio_buffer.speech_stopped", this.speechStopped);
    on("input_audio_buffer.committed", (event) => this.transcript.ensure(event.item_id, "user"));
    on("conversation.item.added", this.itemAdded);
    on("conversation.item.done", this.itemDone);
    on("conversation.item.deleted", this.itemDeleted);
    on("conversation.item.input_audio_transcription.delta", (event) =>
      this.transcript.append(event.item_id, "user", event.delta));
    on("conversation.item.input_audio_transcription.completed", (event) => {
      if (event.transcript) this.transcript.setText(event.item_id, "user", event.transcript);
      this.transcript.done(event.item_id);
    });
    on("response.created", this.responseCreated);
    on("response.output_item.added", (event) => {
      if (event.item.type === "message") this.transcript.ensure(event.item.id, "assistant");
    });
    on("response.output_audio_transcript.delta", this.textDelta);
    on("response.output_text.delta", this.textDelta);
    on("response.output_audio.delta", this.audioDelta);
    on("response.done", this.responseDone);
    on("conversation.item.truncated", (event) =>
      this.client.send({ type: "conversation.item.retrieve", item_id: event.item_id }));
    on("conversation.item.retrieved", this.itemRetrieved);
    on("error", this.serverError);
    on("open", this.sessionStarted);
  }

  /** Waiting for a reply, or a reply on its way that has not made a sound yet. */
  get thinking() {
    return this.awaitingReply || (this.activeResponse !== null && !this.activeHasAudio && !this.playing);
  }

  // ---- turns ----------------------------------------------------------------------------------------------------

  /** A turn of the person's ended (speech stopped, push-to-talk released, text sent): a reply is due. */
  turnEnded() {
    this.awaitingReply = true;
    this.turnEndedAt = performance.now();
    // A reply starts (response.created) within moments; if none does, "thinking" must not stay up for ever.
    clearTimeout(this.replyWatchdog);
    this.replyWatchdog = setTimeout(() => {
      if (this.awaitingReply && this.activeResponse === null) {
        this.awaitingReply = false;
        this.onChange();
      }
    }, REPLY_WAIT_MS);
    this.onChange();
  }

  /** Speech began during the reply and the server holds it: pause playback (the queue and position are kept). */
  speechHeld() {
    this.held = true;
    this.audio.pausePlayback();
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => this.endHold(), HOLD_LIMIT_MS);
    stats.holds++;
    this.onChange();
  }

  /** The held speech was no turn (a backchannel, a cough): the reply goes on from where it paused. */
  speechIgnored() {
    this.endHold();
  }

  /** Resume playback paused for held speech (nothing to do when none is). */
  endHold() {
    clearTimeout(this.holdTimer);
    if (!this.held) return;
    this.held = false;
    this.audio.resumePlayback();
    this.onChange();
  }

  speechStarted(event) {
    this.userSpeaking = true;
    this.turnEndedAt = null;
    this.transcript.ensure(event.item_id, "user");
    this.vision.speechStarted();
    // The server stops its reply when speech starts (interrupt_response); the page stops playing it.
    this.bargeIn();
    this.onChange();
  }

  speechStopped() {
    this.userSpeaking = false;
    this.vision.speechStopped();
    this.turnEnded();
  }

  /** The person stopped speaking without it becoming a turn (microphone stopped mid-speech). */
  abandonSpeech() {
    this.endHold(); // the input was cleared: held speech is no turn now
    if (!this.userSpeaking) return;
    this.userSpeaking = false;
    this.vision.speechStopped();
    for (const [itemId, turn] of this.transcript.turns) {
      if (turn.dataset.role === "user" && turn.dataset.status === "in-progress" && !this.transcript.text(itemId)) {
        this.transcript.remove(itemId);
      }
    }
    this.onChange();
  }

  itemAdded(event) {
    const item = event.item;
    if (item.type !== "message" || item.role !== "user" || this.ownItems.has(item.id)) return;
    if (this.transcript.has(item.id)) return;
    const part = (item.content || [])[0] || {};
    if (part.type === "input_text") {
      this.transcript.setText(item.id, "user", part.text || "");
      this.transcript.done(item.id);
    } else if (part.type === "input_audio") {
      this.transcript.ensure(item.id, "user"); // a push-to-talk turn; its words follow
    } // images the page sent itself are already shown (or, camera frames, deliberately not)
  }

  itemDone(event) {
    const item = event.item;
    if (item.role !== "user" || this.ownItems.has(item.id) || !this.transcript.has(item.id)) return;
    const part = (item.content || [])[0] || {};
    const text = part.transcript ?? part.text;
    if (text) this.transcript.setText(item.id, "user", text);
    this.transcript.done(item.id);
  }

  itemDeleted(event) {
    // A turn that held no words is dropped by the server: drop its placeholder, and expect no reply to it.
    if (this.transcript.status(event.item_id) !== "cut") this.transcript.remove(event.item_id);
    if (this.activeResponse === null) this.awaitingReply = false;
    this.onChange();
  }

  // ---- the reply ------------------------------------------------------------------------------------------------

  responseCreated(event) {
    this.activeResponse = event.response.id;
    this.activeHasAudio = false;
    this.awaitingReply = false;
    this.onChange();
  }

  stale(event) {
    return this.stoppedResponses.has(event.response_id) || this.cutItems.has(event.item_id);
  }

  textDelta(event) {
    if (this.stale(event)) return;
    this.transcript.append(event.item_id, "assistant", event.delta);
    if (event.type === "response.output_text.delta") this.measureLatency();
  }

  audioDelta(event) {
    const samples = base64ToFloat32(event.delta);
    const ms = samplesToMs(samples.length);
    stats.receivedAudioMs += ms;
    if (this.stale(event)) return;
    this.receivedMs.set(event.item_id, (this.receivedMs.get(event.item_id) || 0) + ms);
    this.measureLatency();
    if (event.response_id === this.activeResponse) this.activeHasAudio = true;
    this.audio.play(event.item_id, samples);
  }

  measureLatency() {
    if (this.turnEndedAt === null) return;
    showLatency(performance.now() - this.turnEndedAt);
    this.turnEndedAt = null;
  }

  responseDone(event) {
    const response = event.response;
    if (response.id === this.activeResponse) this.activeResponse = null;
    this.awaitingReply = false;
    this.audio.endReply();
    for (const item of response.output || []) {
      if (item.type !== "message" || this.cutItems.has(item.id) || !this.transcript.has(item.id)) continue;
      const part = (item.content || [])[0] || {};
      const text = part.transcript ?? part.text ?? "";
      const full = this.transcript.text(item.id);
      if (response.status === "cancelled" && text.trim() !== full.trim()) {
        this.transcript.cut(item.id, text); // the server cut it (the person spoke): it kept what it thinks was heard
      } else {
        if (text) this.transcript.setText(item.id, "assistant", text);
        this.transcript.done(item.id);
      }
    }
    if (response.status === "failed") {
      const error = (response.status_details && response.status_details.error) || {};
      showError(`Omni could not answer: ${error.message || "the reply failed"}.`);
    }
    this.onChange();
  }

  // ---- barge-in -------------------------------------------------------------------------------------------------

  /**
   * Stop the reply the person is hearing, at once, and cut its item on the server to what was played
   * (`conversation.item.truncate` with the milliseconds the playback worklet counted). The server stops an active
   * reply for a truncated item itself, so no `output_audio_buffer.clear` is needed.
   * @param {{cancel?: boolean}} options cancel: also send `response.cancel` (push-to-talk, text while speaking)
   */
  async bargeIn({ cancel = false } = {}) {
    clearTimeout(this.holdTimer);
    this.held = false; // the flush ends a pause too, dropping what it kept
    if (this.activeResponse !== null) {
      this.stoppedResponses.add(this.activeResponse);
      if (cancel) this.client.send({ type: "response.cancel" });
    }
    const played = await this.audio.flushPlayback();
    this.playing = false;
    for (const [itemId, playedMs] of Object.entries(played)) {
      const received = this.receivedMs.get(itemId) || 0;
      const end = Math.max(0, Math.floor(Math.min(playedMs, received)));
      this.cutItems.add(itemId);
      this.client.send({ type: "conversation.item.truncate", item_id: itemId, content_index: 0, audio_end_ms: end });
      stats.truncations++;
      this.transcript.cut(itemId, this.estimateHeard(itemId, end, received));
    }
    this.onChange();
  }

  /** Until the server says what it kept, guess the heard words from the share of the audio played. */
  estimateHeard(itemId, playedMs, receivedMs) {
    const full = this.transcript.text(itemId).trim();
    if (!full || receivedMs <= 0) return "";
    const share = Math.min(1, playedMs / receivedMs);
    let cut = Math.round(full.length * share);
    const space = full.lastIndexOf(" ", cut);
    if (space > 0 && cut < full.length) cut = space; // end on a word boundary where there are spaces
    return full.slice(0, cut);
  }

  itemRetrieved(event) {
    const item = event.item;
    if (!this.cutItems.has(item.id)) return;
    const part = (item.content || [])[0] || {};
    this.transcript.cut(item.id, part.transcript ?? part.text ?? "");
  }

  // ---- playback, session, errors --------------------------------------------------------------------------------

  /** Messages from the playback worklet. */
  playback(message) {
    if (message.type === "started") {
      this.playing = true;
      this.onChange();
    } else if (message.type === "idle") {
      this.playing = false;
      this.onChange();
    } else if (message.type === "paused" || message.type === "resumed") {
      stats.playback.push({ type: message.type, frames: message.frames, at: performance.now() });
      if (stats.playback.length > 50) stats.playback.splice(0, stats.playback.length - 50);
    }
    if (message.frames !== undefined) stats.playedSamples = message.frames;
  }

  sessionStarted() {
    // A new connection is a new session: whatever was under way belongs to the old one.
    this.userSpeaking = false;
    this.awaitingReply = false;
    this.activeResponse = null;
    this.turnEndedAt = null;
    clearTimeout(this.holdTimer);
    if (this.playing || this.held) this.audio.flushPlayback(); // a flush also ends a pause
    this.held = false;
    this.playing = false;
    this.onChange();
  }

  serverError(event) {
    const error = event.error || {};
    if (QUIET_ERRORS.has(error.code)) return;
    if (error.code === "input_audio_buffer_commit_empty") {
      this.onHint("Hold Talk (or Space) while you speak.");
      return;
    }
    if (error.code === "idle_timeout") {
      this.transcript.notice("The server closed this idle session. Omni reconnects when you speak or type.");
      return;
    }
    showError(`Omni: ${error.message || error.code || "an error"}`, { seconds: 6 });
  }
}
