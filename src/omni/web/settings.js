// settings.js — the settings form (#settings): its values kept in localStorage, and the `session.update` event they
// make. Turn detection "push-to-talk" is the Realtime API's `turn_detection: null` (manual turns). The interpreter
// toggle is Omni's extension field `omni_interpreter` (docs/interpreter.md): on, every utterance is translated. The
// page always asks for Omni's turn events (`omni_turn_events`, docs/realtime-compat.md): it pauses a reply while the
// server holds speech that may interrupt it.

const STORAGE_KEY = "omni.settings.v1";
const TYPING_PAUSE_MS = 1000;

/** @typedef {{voice: string, language: string, interpreter: string, turnDetection: string, instructions: string,
 *   apiKey: string}} Settings */

/** @type {Settings} */
export const DEFAULTS = {
  voice: "", language: "auto", interpreter: "", turnDetection: "semantic_vad", instructions: "", apiKey: "",
};

const FIELDS = {
  voice: "#voice",
  language: "#language",
  interpreter: "#interpreter", // a checkbox: its value (the two languages, "ko,en") when checked, else ""
  turnDetection: "#turn-detection",
  instructions: "#instructions",
  apiKey: "#api-key",
};

/** @returns {Settings} */
export function loadSettings() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return { ...DEFAULTS, ...(stored && typeof stored === "object" ? stored : {}) };
  } catch {
    return { ...DEFAULTS };
  }
}

function saveSettings(settings) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // private mode or storage full: the settings still apply to this page
  }
}

/**
 * Fill the form from storage and call `onChange(settings, changedName)` whenever a field is changed: selects at
 * once, text fields when they lose focus, on Enter, or after a pause in typing.
 * @param {(settings: Settings, changed: string) => void} onChange
 * @returns {{current: () => Settings}}
 */
export function bindSettings(onChange) {
  let settings = loadSettings();
  const commits = [];
  for (const [name, selector] of Object.entries(FIELDS)) {
    const field = /** @type {HTMLInputElement} */ (document.querySelector(selector));
    if (field.tagName === "SELECT" && ![...field.options].some((option) => option.value === settings[name])) {
      settings[name] = DEFAULTS[name];
    }
    const checkbox = field.type === "checkbox";
    const read = () => (checkbox ? (field.checked ? field.value : "") : field.value);
    if (checkbox) field.checked = settings[name] === field.value;
    else field.value = settings[name];
    let timer = 0;
    const commit = () => {
      clearTimeout(timer);
      if (settings[name] === read()) return;
      settings = { ...settings, [name]: read() };
      saveSettings(settings);
      onChange(settings, name);
    };
    commits.push(commit);
    field.addEventListener("change", commit);
    if (field.tagName !== "SELECT" && !checkbox) {
      field.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(commit, TYPING_PAUSE_MS);
      });
    }
  }
  // Enter in a one-line field submits the form: apply, and stay on the page.
  const form = document.querySelector(FIELDS.voice).form;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const commit of commits) commit();
  });
  return { current: () => settings };
}

/**
 * The `session.update` (GA shape) for these settings.
 * @param {Settings} settings
 * @param {{instructions?: string, audio?: boolean}} server what the server's own session said (default
 *   instructions, restored when the box is emptied), and whether this browser can play audio at all
 */
export function sessionUpdate(settings, { instructions, audio = true } = {}) {
  let turnDetection;
  if (settings.turnDetection === "push-to-talk") {
    turnDetection = null;
  } else if (settings.turnDetection === "semantic_vad") {
    turnDetection = { type: "semantic_vad", eagerness: "auto", create_response: true, interrupt_response: true };
  } else {
    turnDetection = { type: "server_vad", create_response: true, interrupt_response: true };
  }
  const transcription = { model: "whisper-1" };
  if (settings.language && settings.language !== "auto") transcription.language = settings.language;
  const session = {
    type: "realtime",
    output_modalities: [audio ? "audio" : "text"],
    audio: {
      input: { format: { type: "audio/pcm", rate: 24000 }, turn_detection: turnDetection, transcription },
      // OpenAI's voice names ("alloy", ...) all mean the server's default voice: an empty box sends one of them.
      output: { format: { type: "audio/pcm", rate: 24000 }, voice: settings.voice.trim() || "alloy" },
    },
  };
  // On: translate, whatever the instructions say; off (null): the server decides, from its settings and from
  // instructions that ask for an interpreter.
  session.omni_interpreter = settings.interpreter ? { languages: settings.interpreter.split(",") } : null;
  session.omni_turn_events = true; // the page talks only to Omni: pause on speech_held, resume on speech_ignored
  const ownInstructions = settings.instructions.trim();
  if (ownInstructions) session.instructions = ownInstructions;
  else if (instructions) session.instructions = instructions; // back to the server's default
  return { type: "session.update", session };
}
