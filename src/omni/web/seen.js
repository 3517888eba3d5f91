// seen.js — what Omni saw in the images the page sent. The server answers each image with `conversation.item.done`
// whose image part carries its findings (`omni_vision`, an Omni extension other clients ignore); here they become a
// short summary in words and a light overlay of the boxes found, drawn over the picture itself.
//
// Images shown in the transcript (pasted, dropped, "Send a frame") get theirs under the thumbnail. Camera and screen
// frames are not in the transcript, so the last few sent are kept (their pixels are not echoed back) and the one the
// server actually looked at is shown in the "Omni saw" panel beside the live preview, replaced as newer frames are seen.
//
// The words are the accessible part: the overlay is decoration (aria-hidden) that repeats what the summary says.

/**
 * @typedef {{text: string, box: number[], confidence: number}} SeenText
 * @typedef {{label: string, box: number[], confidence: number, position: string}} SeenObject
 * @typedef {{label: string, confidence: number}} SeenGuess
 * @typedef {{box: number[], expression: string | null, expression_confidence: number}} SeenFace
 * @typedef {{width: number, height: number, brightness: number, colours: string[], sharpness: number,
 *   blurry: boolean}} SeenFacts
 * @typedef {{text: SeenText[], objects: SeenObject[], gist: SeenGuess[], faces: SeenFace[], facts: SeenFacts,
 *   description: string | null}} Scene
 * @typedef {{state: "pending" | "seen" | "failed" | "skipped" | "blind", problem: string | null,
 *   scene: Scene | null}} Found  the `omni_vision` of an image part; boxes are [x, y, w, h] fractions from the top left
 * @typedef {{key: string, text: string}} Line
 */

/** ImageNet guesses below this are noise at 1000 classes (the server's note leaves them out too). */
const GIST_MIN_CONFIDENCE = 0.15;
const TEXT_LINES_SHOWN = 3;
const TEXT_LINE_CHARS = 40;
const OBJECT_KINDS_SHOWN = 6;
/** A screenshot can hold hundreds of lines; past this many boxes the overlay hides the picture it explains. */
const MAX_BOXES = 40;
/**
 * Camera frames kept until their look arrives. The server looks at one image at a time and holds at most four
 * waiting, and frames go out about once a second, so a frame older than this will never be shown anyway.
 */
const FRAMES_KEPT = 6;

/** Detector labels whose plural is not label + "s" (the server's note says them the same way). */
const PLURALS = { person: "people", mouse: "mice", knife: "knives", bus: "buses", "wine glass": "wine glasses",
  couch: "couches", sandwich: "sandwiches", toothbrush: "toothbrushes", bench: "benches", glass: "glasses",
  sheep: "sheep", skis: "skis", scissors: "scissors" };

function cut(text, limit) {
  return text.length <= limit ? text : text.slice(0, limit - 1).trimEnd() + "…";
}

function plural(label, count) {
  return count === 1 ? label : PLURALS[label] || label + "s";
}

/** "2 happy, 1 neutral" from a list of names. */
function tally(names) {
  const counts = new Map();
  for (const name of names) counts.set(name, (counts.get(name) || 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/**
 * What was found, as a few short lines a person can take in at a glance ("Reads: …", "Sees: 2 people, 1 cup").
 * @param {Found} found
 * @returns {Line[]}
 */
export function summarize(found) {
  if (found.state === "pending") return [{ key: "", text: "Looking…" }];
  if (found.state === "blind") return [{ key: "", text: "Omni can't see images: this server has no vision backend" }];
  if (found.state === "skipped") return [{ key: "", text: "Not looked at: too many images at once" }];
  if (found.state === "failed" || !found.scene) {
    return [{ key: "Couldn't look:", text: found.problem || "the server gave no reason" }];
  }
  const scene = found.scene;
  const lines = [];
  if (scene.description) lines.push({ key: "Looks like:", text: cut(scene.description.trim(), 160) });
  const read = scene.text.map((line) => line.text.trim()).filter(Boolean);
  if (read.length) {
    const shown = read.slice(0, TEXT_LINES_SHOWN).map((line) => `“${cut(line, TEXT_LINE_CHARS)}”`).join(" · ");
    const more = read.length - TEXT_LINES_SHOWN;
    lines.push({ key: "Reads:", text: more > 0 ? `${shown} +${more} more` : shown });
  }
  if (scene.objects.length) {
    const kinds = tally(scene.objects.map((object) => object.label)).slice(0, OBJECT_KINDS_SHOWN);
    lines.push({ key: "Sees:", text: kinds.map(([label, n]) => `${n} ${plural(label, n)}`).join(", ") });
  }
  const likely = scene.gist.filter((guess) => guess.confidence >= GIST_MIN_CONFIDENCE).slice(0, 2);
  if (likely.length && !scene.description) {
    lines.push({ key: "Looks like:", text: likely.map((guess) => guess.label).join(" or ") });
  }
  if (scene.faces.length) {
    const n = scene.faces.length;
    const moods = tally(scene.faces.map((face) => face.expression).filter(Boolean))
      .map(([mood, count]) => (count === 1 || n === 1 ? mood : `${count} ${mood}`));
    lines.push({ key: "", text: `${n} ${plural("face", n)}` + (moods.length ? ` (${moods.join(", ")})` : "") });
  }
  if (lines.length === 0) {
    // Say why, when the picture itself suggests it: a dark or blurry frame is worth retaking.
    const facts = scene.facts;
    const why = [facts && facts.brightness < 0.3 ? "dark" : "", facts && facts.blurry ? "blurry" : ""].filter(Boolean);
    lines.push({ key: "", text: "Nothing recognised" + (why.length ? ` (${why.join(", ")})` : "") });
  }
  return lines;
}

/** The findings of an item's first image part, or null (not an image, or from a server that adds none). */
export function findingsOf(item) {
  const part = ((item && item.content) || []).find((p) => p.type === "input_image" && p.omni_vision);
  return part ? /** @type {Found} */ (part.omni_vision) : null;
}

function place(element, box) {
  const [x, y, w, h] = box.map((v) => Math.min(1, Math.max(0, Number(v) || 0)));
  element.style.left = `${x * 100}%`;
  element.style.top = `${y * 100}%`;
  element.style.width = `${Math.min(w, 1 - x) * 100}%`;
  element.style.height = `${Math.min(h, 1 - y) * 100}%`;
}

/** Boxes over the picture: text lines, objects (labelled) and faces (labelled with their expression). */
function drawBoxes(overlay, scene) {
  const boxes = [];
  const add = (kind, box, label) => {
    if (!Array.isArray(box) || box.length !== 4 || boxes.length >= MAX_BOXES) return;
    const element = document.createElement("span");
    element.className = "seen-box";
    element.dataset.kind = kind;
    place(element, box);
    if (label) {
      const tag = document.createElement("span");
      tag.className = "seen-tag";
      tag.textContent = label;
      element.append(tag);
    }
    boxes.push(element);
  };
  if (scene) {
    // Objects and faces first: when a screen full of text reaches the limit, they are what is left out least.
    for (const object of scene.objects) add("object", object.box, object.label);
    for (const face of scene.faces) add("face", face.box, face.expression);
    for (const line of scene.text) add("text", line.box);
  }
  overlay.replaceChildren(...boxes);
}

/** A picture with its overlay, and the summary that goes with it. */
export class SeenView {
  /**
   * Wraps `img` in a .seen-frame (so the overlay's percentages are of the picture itself) and writes into `summary`.
   * @param {HTMLImageElement} img
   * @param {HTMLElement} summary
   * @param {{titled?: boolean}} [options] titled: the whole summary as a tooltip too, where lines are cut short
   */
  constructor(img, summary, { titled = false } = {}) {
    this.img = img;
    this.summary = summary;
    this.titled = titled;
    this.summary.classList.add("seen-summary");
    const frame = document.createElement("span");
    frame.className = "seen-frame";
    img.replaceWith(frame);
    this.overlay = document.createElement("span");
    this.overlay.className = "seen-overlay";
    this.overlay.setAttribute("aria-hidden", "true");
    frame.append(img, this.overlay);
  }

  /** @param {Found} found */
  show(found) {
    this.write(found.state, summarize(found));
    drawBoxes(this.overlay, found.scene);
  }

  /** A state of the page's own, before or instead of the server's findings. */
  note(state, text) {
    this.write(state, [{ key: "", text }]);
    this.overlay.replaceChildren();
  }

  write(state, lines) {
    this.summary.dataset.state = state;
    const intro = document.createElement("span");
    intro.className = "visually-hidden";
    intro.textContent = "What Omni saw: ";
    const rows = lines.map(({ key, text }) => {
      const row = document.createElement("span");
      row.className = "seen-line";
      if (key) {
        const label = document.createElement("span");
        label.className = "seen-key";
        label.textContent = key + " ";
        row.append(label);
      }
      row.append(text);
      return row;
    });
    this.summary.replaceChildren(intro, ...rows);
    if (this.titled) this.summary.title = lines.map(({ key, text }) => (key ? `${key} ${text}` : text)).join("\n");
  }
}

/** Follows the images the page sent until the server says what it saw in them. */
export class Seen {
  /**
   * @param {{client: import("./realtime.js").RealtimeClient, panel: HTMLElement}} parts
   *   panel: the "Omni saw" panel in the preview (an img.seen-image and a .seen-summary inside)
   */
  constructor({ client, panel }) {
    this.panel = panel;
    this.panelView = new SeenView(
      /** @type {HTMLImageElement} */ (panel.querySelector(".seen-image")),
      /** @type {HTMLElement} */ (panel.querySelector(".seen-summary")), { titled: true });
    /**
     * Transcript images whose findings have not come yet; each leaves at its item.done, its error, or when the
     * connection it went out on drops. `sent`: it left the page (queued ones go out when the next session opens).
     * @type {Map<string, {view: SeenView, sent: boolean}>}
     */
    this.waiting = new Map();
    /** @type {Map<string, string>} the last camera or screen frames sent, by item id (insertion order: oldest first) */
    this.frames = new Map();

    client.on("conversation.item.added", (event) => {
      const entry = this.waiting.get(event.item.id);
      if (entry) entry.sent = true;
    });
    client.on("conversation.item.done", (event) => this.itemDone(event.item));
    client.on("error", (event) => this.refused(event.error || {}));
    client.on("state", (state) => {
      if (state !== "connected") this.connectionLost();
    });
    client.on("open", () => {
      // A new session: the queue goes out now; frames sent on the old one will never be answered.
      for (const entry of this.waiting.values()) {
        if (!entry.sent) entry.view.note("pending", "Looking…");
        entry.sent = true;
      }
      this.frames.clear();
    });
  }

  /**
   * An image shown in the transcript: its findings go under it.
   * @param {string} itemId @param {HTMLImageElement} img the thumbnail @param {boolean} sent false: queued offline
   */
  watch(itemId, img, sent) {
    const summary = document.createElement("p");
    const turn = img.parentElement;
    const view = new SeenView(img, summary);
    turn.append(summary);
    view.note("pending", sent ? "Looking…" : "Waiting for the server…");
    this.waiting.set(itemId, { view, sent });
  }

  /** A camera or screen frame that went out; kept until its look arrives, and only the last few. */
  frameSent(itemId, dataUrl) {
    this.frames.set(itemId, dataUrl);
    for (const oldest of this.frames.keys()) {
      if (this.frames.size <= FRAMES_KEPT) break;
      this.frames.delete(oldest);
    }
  }

  /** The camera or screen stopped (or switched): the panel's frame is no longer what Omni sees. */
  clearFrames() {
    this.frames.clear();
    this.panel.hidden = true;
    this.panelView.img.removeAttribute("src");
  }

  itemDone(item) {
    const found = findingsOf(item);
    if (!found) return;
    const entry = this.waiting.get(item.id);
    if (entry) {
      this.waiting.delete(item.id);
      entry.view.show(found);
      return;
    }
    const dataUrl = this.frames.get(item.id);
    if (dataUrl === undefined) return;
    // Looks finish in the order the frames were sent: the ones before this one are answered or never will be.
    for (const id of this.frames.keys()) {
      this.frames.delete(id);
      if (id === item.id) break;
    }
    this.panelView.img.src = dataUrl;
    this.panelView.show(found);
    this.panel.hidden = false;
  }

  /** An error about an image the page sent (app.js gives the item's id as the event_id, which errors echo). */
  refused(error) {
    const entry = this.waiting.get(error.event_id);
    if (!entry) return;
    this.waiting.delete(error.event_id);
    const why = String(error.message || error.code || "the server refused it").replace(/^conversation\.item\.create: /, "");
    entry.view.note("failed", `Omni couldn't take this image: ${why}`);
  }

  connectionLost() {
    for (const [itemId, entry] of this.waiting) {
      if (!entry.sent) continue; // still queued: it goes out when the connection is back
      this.waiting.delete(itemId);
      entry.view.note("failed", "Not looked at: the connection to the server dropped");
    }
    this.frames.clear();
  }
}
