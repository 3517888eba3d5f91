// app.js — wiring and UI state: builds the Realtime client, audio, vision, transcript and conversation, binds the
// page's controls to them, and draws the status from their flags. The page talks to the server only through the
// Realtime API (GA event names), exactly as any other client would.

import { AudioEngine, MicError, voiceSupportProblem } from "./audio.js";
import { Conversation } from "./conversation.js";
import { VisionError, VisionSource, imageFiles, imageToJpeg } from "./media.js";
import { PCM_RATE, int16ToBase64 } from "./pcm.js";
import { RealtimeClient } from "./realtime.js";
import { Seen } from "./seen.js";
import { bindSettings, sessionUpdate } from "./settings.js";
import { Transcript } from "./transcript.js";
import { clearError, showConnection, showError, showLevel, showState, stats } from "./ui.js";

const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));
const MIN_TALK_MS = 150; // a shorter push-to-talk press is a slip, not a turn (the server wants ≥ 100 ms of audio)

// ---- where the server is: relative to this page, so a reverse proxy under a sub-path works too ----------------------

const pageUrl = new URL(".", location.href);
const wsUrl = new URL("v1/realtime?model=omni-realtime", pageUrl);
wsUrl.protocol = pageUrl.protocol === "https:" ? "wss:" : "ws:";

// ---- the parts ------------------------------------------------------------------------------------------------------

const settings = bindSettings(settingsChanged);
const voiceProblem = voiceSupportProblem();
const client = new RealtimeClient({
  url: wsUrl.href,
  getKey: () => settings.current().apiKey,
  healthUrl: new URL("healthz", pageUrl).href,
});
const transcript = new Transcript($("#transcript"));
const audio = new AudioEngine({
  onChunk: sendAudio,
  onLevel: showLevel,
  onPlayback: (message) => conversation.playback(message),
  onMicEnded: () => {
    stopMic();
    showError("The microphone stopped (unplugged or taken by another app). Press Start to try again.", { seconds: 0 });
  },
});
const vision = new VisionSource(/** @type {HTMLVideoElement} */ ($("#preview")), {
  onFrame: (dataUrl) => sendImage(dataUrl, { show: false }),
  onChange: visionChanged,
});
const conversation = new Conversation({ client, audio, transcript, vision, onChange: render, onHint: hint });
const seen = new Seen({ client, panel: $("#seen-panel") });

/** What the page itself is doing, next to the conversation's flags. */
const ui = {
  mic: /** @type {"off" | "starting" | "on"} */ ("off"),
  micFailed: false,
  fatal: /** @type {string | null} */ (null),
  talking: false, // push-to-talk held
  releasing: false,
  talkStartedAt: 0,
  talkSentMs: 0,
  hint: /** @type {string | null} */ (null),
  hintTimer: 0,
  sessions: 0,
};

const pushToTalk = () => settings.current().turnDetection === "push-to-talk";

/** Make the AudioContext (browsers allow sound only after a click or key press); playback needs it. */
function startSound() {
  if (voiceProblem) return Promise.resolve();
  return audio.init().then(
    () => (stats.outputSampleRate = audio.outputRate),
    (error) => console.warn("audio could not start", error),
  );
}

// ---- the status at a glance -------------------------------------------------------------------------------------------

function render() {
  let state;
  let text;
  if (ui.fatal) {
    state = "error";
    text = "This browser can't run Omni";
  } else if (conversation.userSpeaking || ui.talking) {
    state = "user-speaking";
  } else if (conversation.playing) {
    state = "speaking";
  } else if (conversation.thinking) {
    state = "thinking";
  } else if (ui.mic === "starting") {
    state = "connecting";
    text = "Starting the microphone…";
  } else if (ui.mic === "on") {
    state = client.connected ? "listening" : "connecting";
    if (state === "listening" && pushToTalk()) text = "Hold Talk or Space to speak";
    if (state === "connecting") text = "Waiting for the server…";
  } else if (ui.micFailed) {
    state = "error";
    text = "Can't hear you: type below";
  } else {
    state = "idle";
    if (pushToTalk()) text = "Press Start, then hold Talk or Space to speak";
  }
  if (ui.hint && (state === "listening" || state === "idle")) text = ui.hint;
  showState(state, text);

  const start = $("#start");
  const on = ui.mic !== "off";
  start.setAttribute("aria-pressed", String(on));
  start.querySelector(".label").textContent = on ? "Stop" : "Start";
  start.title = on ? "Stop the microphone" : "Start talking with Omni";
  const talk = $("#talk");
  talk.hidden = !pushToTalk();
  talk.setAttribute("aria-pressed", String(ui.talking));
  talk.textContent = ui.talking ? "Talking… release to send" : "Hold to talk";
}

function hint(text) {
  ui.hint = text;
  clearTimeout(ui.hintTimer);
  ui.hintTimer = setTimeout(() => {
    ui.hint = null;
    render();
  }, 3000);
  render();
}

// ---- the connection -------------------------------------------------------------------------------------------------

client.on("state", (state) => {
  if (state === "reconnecting") {
    showConnection(state, undefined, "The server is not answering; Omni keeps trying (waiting 0.5 s, then up to 8 s)");
  } else if (state === "disconnected" && client.idleClosed) {
    showConnection(state, "Idle", "The server closed the idle session; Omni reconnects when you speak or type");
  } else {
    showConnection(state);
  }
  render();
});

client.on("open", () => {
  ui.sessions++;
  if (ui.sessions > 1 && transcript.turns.size > 0) {
    transcript.notice("Reconnected: a new session begins (Omni does not remember the conversation above).");
  }
  client.send(configuration());
});

client.on("session.created", (event) => {
  const instructions = $("#instructions");
  if (event.session && event.session.instructions) instructions.placeholder = event.session.instructions;
});

// Interpreter mode as the server applies it (the settings toggle, or instructions that ask for an interpreter): the
// message box says that typed text is translated.
const LANGUAGE_NAMES = { ko: "Korean", en: "English", ja: "Japanese", zh: "Chinese", es: "Spanish", fr: "French",
  de: "German" };
const messagePlaceholder = $("#text-input").getAttribute("placeholder");
client.on("session.updated", (event) => {
  const mode = event.session && event.session.omni_interpreter;
  document.body.dataset.mode = mode ? "interpreter" : "conversation";
  const names = mode ? mode.languages.map((code) => LANGUAGE_NAMES[code] || code).join(" or ") : "";
  $("#text-input").setAttribute("placeholder", mode ? `Type ${names} to translate it…` : messagePlaceholder);
});

client.on("refused", ({ hasKey }) => {
  showError(hasKey
    ? "The server refused the API key. Check it in Settings → API key."
    : "This server needs an API key: enter it in Settings → API key.", { seconds: 0 });
  /** @type {HTMLDetailsElement} */ ($("#settings")).open = true;
  $("#api-key").focus();
});

/** The session.update for the current settings. */
function configuration() {
  const server = conversation.serverSession || {};
  return sessionUpdate(settings.current(), { instructions: server.instructions, audio: !voiceProblem });
}

function settingsChanged(current, changed) {
  if (changed === "apiKey") {
    clearError();
    client.reconnect();
    return;
  }
  if (changed === "turnDetection") {
    if (ui.talking) releaseTalk();
    // Audio gathered under the old mode should not become a turn under the new one.
    client.send({ type: "input_audio_buffer.clear" }, { queue: false });
    conversation.abandonSpeech();
  }
  if (client.connected) client.send(configuration());
  render();
}

// ---- the microphone ---------------------------------------------------------------------------------------------

async function startMic() {
  if (ui.mic !== "off") return;
  ui.mic = "starting";
  clearError();
  render();
  client.connect();
  try {
    await audio.startMic();
    stats.outputSampleRate = audio.outputRate;
    ui.mic = "on";
    ui.micFailed = false;
  } catch (error) {
    ui.mic = "off";
    ui.micFailed = true;
    showError(error instanceof MicError ? error.message : `Omni can't hear you: ${error}`, { seconds: 0 });
  }
  render();
}

function stopMic() {
  audio.stopMic();
  ui.mic = "off";
  ui.talking = false;
  if (conversation.userSpeaking || conversation.held) {
    client.send({ type: "input_audio_buffer.clear" }, { queue: false }); // the turn (or the hold) can never end now
    conversation.abandonSpeech();
  }
  render();
}

/** A 24 kHz chunk from the capture worklet → `input_audio_buffer.append` (dropped while not connected). */
function sendAudio(pcm) {
  if (pushToTalk() && !ui.talking) return; // push-to-talk: only what is said while Talk is held
  const sent = client.send({ type: "input_audio_buffer.append", audio: int16ToBase64(pcm) }, { queue: false });
  if (!sent) return;
  const ms = (pcm.length * 1000) / PCM_RATE;
  stats.sentAudioMs += ms;
  if (ui.talking) ui.talkSentMs += ms;
}

$("#start").addEventListener("click", () => (ui.mic === "off" ? startMic() : stopMic()));

// ---- push-to-talk -------------------------------------------------------------------------------------------------

let pressing = Promise.resolve();

function pressTalk() {
  if (ui.talking || !pushToTalk() || ui.fatal) return;
  ui.talking = true;
  ui.talkStartedAt = performance.now();
  ui.talkSentMs = 0;
  clearError();
  render();
  pressing = (async () => {
    if (ui.mic === "off") await startMic();
    if (ui.mic !== "on") {
      ui.talking = false;
      render();
      return;
    }
    // A fresh turn: drop stray audio, and stop a reply that is still talking (cut to what was heard).
    client.send({ type: "input_audio_buffer.clear" });
    await conversation.bargeIn({ cancel: true });
    vision.speechStarted();
  })();
}

async function releaseTalk() {
  if (!ui.talking || ui.releasing) return; // pointer and key may both report the release
  ui.releasing = true;
  try {
    await pressing;
    if (!ui.talking) return;
    await audio.flushMic(); // the last part-chunk goes out before the commit
    ui.talking = false;
    vision.speechStopped();
    const held = performance.now() - ui.talkStartedAt;
    if (held < MIN_TALK_MS || ui.talkSentMs < 100) {
      client.send({ type: "input_audio_buffer.clear" }, { queue: false });
      hint("Hold Talk (or Space) while you speak.");
      return;
    }
    client.send({ type: "input_audio_buffer.commit" });
    client.send({ type: "response.create" });
    conversation.turnEnded();
  } finally {
    ui.releasing = false;
    render();
  }
}

const talk = $("#talk");
talk.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  talk.setPointerCapture(event.pointerId);
  pressTalk();
});
talk.addEventListener("pointerup", releaseTalk);
talk.addEventListener("pointercancel", releaseTalk);
// Space is handled for the whole page below; Enter works on the focused button too.
talk.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    if (!event.repeat) pressTalk();
  }
});
talk.addEventListener("keyup", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    releaseTalk();
  }
});

/** Whether a key press is typing: in a text field, a select or editable content (Space is a character there). */
function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    clearError();
    const details = /** @type {HTMLDetailsElement} */ ($("#settings"));
    if (details.open && details.contains(document.activeElement)) {
      details.open = false;
      details.querySelector("summary").focus();
    }
  }
  // Push-to-talk: hold Space anywhere but in a text field (on a focused button too: Enter still presses it).
  if (event.code === "Space" && pushToTalk() && !isTyping(event.target)) {
    event.preventDefault();
    if (!event.repeat) pressTalk();
  }
});
document.addEventListener("keyup", (event) => {
  if (event.code === "Space" && ui.talking && !isTyping(event.target)) {
    event.preventDefault();
    releaseTalk();
  }
});
window.addEventListener("blur", () => releaseTalk()); // a key released in another window never comes back

// ---- text, pasted and dropped images -------------------------------------------------------------------------------

function newItemId() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return "item_web" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const textInput = /** @type {HTMLTextAreaElement} */ ($("#text-input"));

async function sendText() {
  const text = textInput.value.trim();
  if (!text) return;
  textInput.value = "";
  fitTextInput();
  startSound(); // a key press or click: the moment a browser lets a page start sound
  clearError();
  await conversation.bargeIn(); // typing over a spoken reply stops it, as speaking would
  const id = newItemId();
  conversation.ownItems.add(id);
  transcript.setText(id, "user", text);
  transcript.done(id);
  client.send({
    type: "conversation.item.create",
    item: { id, type: "message", role: "user", content: [{ type: "input_text", text }] },
  });
  client.send({ type: "response.create" });
  conversation.turnEnded();
}

/**
 * Send an image as a user message (`input_image`). Shown images (pasted, dropped, "Send a frame") get a turn with a
 * thumbnail; the camera's periodic frames do not (they would flood the log) and are not queued while offline.
 */
function sendImage(dataUrl, { show, caption } = { show: true }) {
  const id = newItemId();
  conversation.ownItems.add(id);
  const sent = client.send({
    type: "conversation.item.create",
    event_id: id, // an error about this image names it: the thumbnail can say why it was not looked at
    item: { id, type: "message", role: "user", content: [{ type: "input_image", image_url: dataUrl }] },
  }, { queue: show });
  if (!sent && !show) return;
  stats.imagesSent++;
  if (show) seen.watch(id, transcript.addImage(id, dataUrl, caption), sent);
  else seen.frameSent(id, dataUrl);
}

async function sendImageFiles(files) {
  for (const file of files) {
    try {
      sendImage(await imageToJpeg(file), { show: true, caption: file.name && file.name !== "image.png" ? file.name : "Image" });
    } catch (error) {
      showError(error instanceof VisionError ? error.message : String(error));
    }
  }
}

function fitTextInput() {
  textInput.style.height = "auto";
  textInput.style.height = `${Math.min(textInput.scrollHeight, 144)}px`;
}

$("#composer").addEventListener("submit", (event) => {
  event.preventDefault();
  sendText();
});
textInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { // isComposing: a Korean IME is mid-syllable
    event.preventDefault();
    sendText();
  }
});
textInput.addEventListener("input", fitTextInput);

document.addEventListener("paste", (event) => {
  const files = imageFiles(event.clipboardData);
  if (files.length === 0) return; // text pastes into the box as usual
  event.preventDefault();
  sendImageFiles(files);
});

let dragDepth = 0;
const dragsFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
window.addEventListener("dragenter", (event) => {
  if (!dragsFiles(event)) return;
  event.preventDefault();
  dragDepth++;
  document.body.classList.add("dragging");
});
window.addEventListener("dragover", (event) => {
  if (dragsFiles(event)) event.preventDefault();
});
window.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) document.body.classList.remove("dragging");
});
window.addEventListener("drop", (event) => {
  if (!dragsFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  document.body.classList.remove("dragging");
  const files = imageFiles(event.dataTransfer);
  if (files.length === 0) {
    showError("Omni can only look at images: drop a PNG, JPEG, GIF or WebP file.");
    return;
  }
  sendImageFiles(files);
});

// ---- camera and screen --------------------------------------------------------------------------------------------------

async function toggleVision(kind) {
  if (vision.kind === kind) {
    vision.stop();
    return;
  }
  clearError();
  try {
    await vision.start(kind);
  } catch (error) {
    showError(error instanceof VisionError ? error.message : String(error));
  }
}

function visionChanged(kind) {
  seen.clearFrames();
  $("#camera").setAttribute("aria-pressed", String(kind === "camera"));
  $("#screen").setAttribute("aria-pressed", String(kind === "screen"));
  /** @type {HTMLButtonElement} */ ($("#snapshot")).disabled = kind === null;
  const figure = $(".preview");
  figure.hidden = kind === null;
  figure.querySelector(".preview-label").textContent =
    kind === "screen" ? "Omni sees your screen" : "Omni sees your camera";
}

$("#camera").addEventListener("click", () => toggleVision("camera"));
$("#screen").addEventListener("click", () => toggleVision("screen"));
$("#snapshot").addEventListener("click", () => {
  const frame = vision.frame();
  if (frame) sendImage(frame, { show: true, caption: vision.kind === "screen" ? "Your screen" : "Your camera" });
});

// ---- the rest of the page --------------------------------------------------------------------------------------------

$("#error").addEventListener("click", clearError);

function fillConnectSection() {
  const base = new URL("v1", pageUrl).href;
  const ws = new URL(wsUrl.href);
  ws.search = "";
  $(".connect .ws-url").textContent = ws.href;
  $(".connect .base-url").textContent = base;
  const snippet = $(".connect .sdk-snippet");
  snippet.textContent = snippet.textContent.replace("http://127.0.0.1:8000/v1", base);
}

function boot() {
  fillConnectSection();
  if (!("WebSocket" in window)) {
    ui.fatal = "This browser cannot open a WebSocket, which Omni needs. Use a current Chrome, Edge, Firefox or Safari.";
    showError(ui.fatal, { seconds: 0 });
    for (const control of document.querySelectorAll("button, textarea, input, select")) control.disabled = true;
    render();
    return;
  }
  if (voiceProblem) {
    for (const id of ["#start", "#talk"]) /** @type {HTMLButtonElement} */ ($(id)).disabled = true;
    showError(voiceProblem + " Replies come as text.", { seconds: 0 });
  }
  showConnection("disconnected");
  render();
  client.connect(); // text works before the microphone is ever started
}

boot();
