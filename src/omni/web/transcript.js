// transcript.js — the conversation log (#transcript): one .turn per conversation item, keyed by item id.
//
//   <article class="turn" data-role="user|assistant" data-item-id="…" data-status="in-progress|done|cut">
//     <span class="who">You said / Omni said</span>   (read by screen readers; the layout shows who is who)
//     <span class="text">…</span>                      (what was said; for a cut reply, what was heard)
//     <del class="unheard">…</del> <span class="cut-mark">cut</span>   (a cut reply only: what was not heard)
//     <span class="seen-frame"><img class="attachment"> <span class="seen-overlay">…</span></span>
//                                                      (an image the person sent, and seen.js's boxes over it)
//     <p class="seen-summary">…</p>                    (what Omni saw in it, from seen.js)
//   </article>

const PLACEHOLDER = "…";

export class Transcript {
  /** @param {HTMLElement} root the #transcript element (role="log", aria-live="polite") */
  constructor(root) {
    this.root = root;
    /** @type {Map<string, HTMLElement>} */
    this.turns = new Map();
    /** @type {Map<string, string>} the full text of each assistant turn, as streamed (cut turns show part) */
    this.full = new Map();
  }

  has(itemId) {
    return this.turns.has(itemId);
  }

  /** The turn for `itemId`, made (in progress, with a "…" placeholder) if it does not exist yet. */
  ensure(itemId, role) {
    let turn = this.turns.get(itemId);
    if (turn) return turn;
    turn = document.createElement("article");
    turn.className = "turn";
    turn.dataset.role = role;
    turn.dataset.itemId = itemId;
    turn.dataset.status = "in-progress";
    turn.setAttribute("aria-busy", "true"); // announced once complete, not at every streamed word
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You said: " : "Omni said: ";
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = PLACEHOLDER;
    text.dataset.placeholder = "true";
    turn.append(who, text);
    const stick = this.atBottom();
    this.root.append(turn);
    this.turns.set(itemId, turn);
    this.full.set(itemId, "");
    this.root.classList.add("has-turns");
    if (stick) this.scrollToEnd();
    return turn;
  }

  /** Append streamed text to a turn. */
  append(itemId, role, delta) {
    if (!delta) return;
    const full = (this.full.get(itemId) || "") + delta;
    this.ensure(itemId, role);
    this.full.set(itemId, full);
    if (this.status(itemId) !== "cut") this.write(itemId, full);
  }

  /** Replace a turn's whole text (a final transcript). */
  setText(itemId, role, text) {
    this.ensure(itemId, role);
    this.full.set(itemId, text);
    if (this.status(itemId) !== "cut") this.write(itemId, text);
  }

  text(itemId) {
    return this.full.get(itemId) || "";
  }

  write(itemId, text) {
    const node = this.turns.get(itemId).querySelector(".text");
    const stick = this.atBottom();
    node.textContent = text || PLACEHOLDER;
    if (text) delete node.dataset.placeholder;
    else node.dataset.placeholder = "true";
    if (stick) this.scrollToEnd();
  }

  status(itemId) {
    const turn = this.turns.get(itemId);
    return turn ? turn.dataset.status : null;
  }

  /** Mark a turn done; a turn that never got words says so instead of "…". */
  done(itemId) {
    const turn = this.turns.get(itemId);
    if (!turn || turn.dataset.status === "cut") return;
    turn.dataset.status = "done";
    turn.removeAttribute("aria-busy");
    const text = turn.querySelector(".text");
    if (text.dataset.placeholder && !turn.querySelector(".attachment")) {
      text.textContent = turn.dataset.role === "user" ? "(nothing heard)" : "(no answer)";
    }
  }

  /**
   * Show a reply as cut where the person stopped hearing it: `kept` normally, the rest struck through.
   * `kept` is what the server kept (from conversation.item.retrieve) or an estimate until that comes.
   */
  cut(itemId, kept) {
    const turn = this.turns.get(itemId);
    if (!turn) return;
    const full = (this.full.get(itemId) || "").trimStart();
    const keptText = (kept || "").trim();
    const rest = full.startsWith(keptText) ? full.slice(keptText.length) : full.slice(Math.min(keptText.length, full.length));
    turn.dataset.status = "cut";
    turn.removeAttribute("aria-busy");
    const text = turn.querySelector(".text");
    text.textContent = keptText;
    delete text.dataset.placeholder;
    let unheard = turn.querySelector(".unheard");
    if (!unheard) {
      unheard = document.createElement("del");
      unheard.className = "unheard";
      unheard.title = "Not heard: Omni was interrupted here";
      const mark = document.createElement("span");
      mark.className = "cut-mark";
      mark.textContent = "interrupted";
      turn.append(unheard, mark);
    }
    unheard.textContent = rest;
    unheard.hidden = !rest.trim();
  }

  /**
   * An image the person sent, as its own user turn.
   * @returns {HTMLImageElement} the thumbnail (seen.js puts what Omni saw in it over and under it)
   */
  addImage(itemId, dataUrl, caption) {
    const turn = this.ensure(itemId, "user");
    const img = document.createElement("img");
    img.className = "attachment";
    img.src = dataUrl;
    img.alt = caption || "Image you sent";
    const text = turn.querySelector(".text");
    text.textContent = caption || "Image";
    delete text.dataset.placeholder;
    turn.classList.add("with-image");
    turn.insertBefore(img, text);
    this.done(itemId);
    this.scrollToEnd();
    return img;
  }

  remove(itemId) {
    const turn = this.turns.get(itemId);
    if (!turn) return;
    turn.remove();
    this.turns.delete(itemId);
    this.full.delete(itemId);
    if (this.turns.size === 0) this.root.classList.remove("has-turns");
  }

  /** A line about the conversation itself (a new session after a reconnect), not a turn. */
  notice(message) {
    const line = document.createElement("p");
    line.className = "notice";
    line.textContent = message;
    this.root.append(line);
    this.scrollToEnd();
  }

  atBottom() {
    const root = this.root;
    return root.scrollHeight - root.scrollTop - root.clientHeight < 48;
  }

  scrollToEnd() {
    this.root.scrollTop = this.root.scrollHeight;
  }
}
