// ui.js — the state at a glance: #status (data-state), #connection (data-connection), the #level meter,
// #latency and #error; and window.omniStats, the live numbers the browser tests (and curious people) read.

const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

/**
 * @type {{sentAudioMs: number, playedSamples: number, receivedAudioMs: number, truncations: number,
 *   imagesSent: number, lastLatencyMs: number | null, events: string[], outputSampleRate: number | null,
 *   holds: number, playback: {type: string, frames: number, at: number}[]}}
 * playedSamples are counted by the playback worklet at the AudioContext's rate (outputSampleRate). holds: the times
 * playback was paused for held speech; playback: the worklet's last "paused" and "resumed" reports (its played
 * frames then, and performance.now()).
 */
export const stats = {
  sentAudioMs: 0,
  playedSamples: 0,
  receivedAudioMs: 0,
  truncations: 0,
  imagesSent: 0,
  lastLatencyMs: null,
  events: [],
  outputSampleRate: null,
  holds: 0,
  playback: [],
};
window.omniStats = stats;

const EVENT_LOG_SIZE = 200;

/** Keep the type of a server event in omniStats.events (the last 200). */
export function recordEvent(type) {
  stats.events.push(type);
  if (stats.events.length > EVENT_LOG_SIZE) stats.events.splice(0, stats.events.length - EVENT_LOG_SIZE);
}

/** @typedef {"idle" | "connecting" | "listening" | "user-speaking" | "thinking" | "speaking" | "error"} State */

const STATE_TEXT = {
  idle: "Press Start to talk, or type below",
  connecting: "Connecting…",
  listening: "Listening",
  "user-speaking": "Hearing you…",
  thinking: "Thinking…",
  speaking: "Speaking",
  error: "Something is wrong (see the message below)",
};

/** @param {State} state @param {string} [text] words instead of the usual ones */
export function showState(state, text) {
  const status = $("#status");
  status.dataset.state = state;
  document.body.dataset.state = state;
  const label = text || STATE_TEXT[state];
  const node = status.querySelector(".status-text");
  if (node.textContent !== label) node.textContent = label;
}

const CONNECTION_TEXT = {
  disconnected: "Offline",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
};

/** @param {"disconnected" | "connecting" | "connected" | "reconnecting"} state @param {string} [title] */
export function showConnection(state, text, title) {
  const connection = $("#connection");
  connection.dataset.connection = state;
  connection.querySelector(".connection-text").textContent = text || CONNECTION_TEXT[state];
  connection.title = title || "";
}

let levelFrame = 0;
let pendingLevel = 0;

/** The microphone's loudness (RMS of a chunk, 0..1) on a -60..0 dBFS scale, drawn once per animation frame. */
export function showLevel(rms) {
  const db = rms > 0 ? 20 * Math.log10(rms) : -100;
  pendingLevel = Math.round(Math.max(0, Math.min(1, (db + 60) / 60)) * 100);
  if (levelFrame) return;
  levelFrame = requestAnimationFrame(() => {
    levelFrame = 0;
    const level = $("#level");
    level.setAttribute("aria-valuenow", String(pendingLevel));
    level.style.setProperty("--level", String(pendingLevel / 100));
    document.documentElement.style.setProperty("--mic-level", String(pendingLevel / 100));
  });
}

/** Voice-to-voice latency of the last turn: end of speech → first audio of the answer. */
export function showLatency(ms) {
  stats.lastLatencyMs = ms;
  const latency = $("#latency");
  latency.textContent = `${(ms / 1000).toFixed(1)} s`;
  latency.title = `Last answer began ${Math.round(ms)} ms after you stopped speaking`;
  latency.hidden = false;
}

let errorTimer = 0;

/**
 * Show a message in #error (role="alert"). Passing errors fade after `seconds`; `seconds: 0` keeps it until
 * dismissed (a click or Escape) or replaced.
 */
export function showError(message, { seconds = 8 } = {}) {
  const error = $("#error");
  clearTimeout(errorTimer);
  error.textContent = message;
  error.hidden = false;
  if (seconds > 0) errorTimer = setTimeout(clearError, seconds * 1000);
}

export function clearError() {
  clearTimeout(errorTimer);
  const error = $("#error");
  error.textContent = "";
  error.hidden = true;
}
