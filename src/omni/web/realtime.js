// realtime.js — a small OpenAI Realtime API client for the browser (GA dialect): one WebSocket to /v1/realtime,
// JSON events both ways, handlers by server event type, a queue for events sent while (re)connecting, and
// reconnection with backoff. It knows nothing about the page; app.js and conversation.js wire it up.
//
// Browsers cannot set an Authorization header on a WebSocket, so an API key travels as the subprotocol
// "openai-insecure-api-key.KEY" next to "realtime", as OpenAI's own API accepts.

/** Waits between reconnection attempts: 0.5 s doubling to 8 s, then 8 s. */
export const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const QUEUE_LIMIT = 200;

/** @typedef {"disconnected" | "connecting" | "connected" | "reconnecting"} ConnectionState */

export class RealtimeClient {
  /**
   * @param {{url: string, getKey: () => string, healthUrl: string}} options
   *   url: the ws:// or wss:// URL of /v1/realtime; getKey: the API key ("" for none);
   *   healthUrl: an HTTP URL that answers without a key (tells "server down" from "key refused").
   */
  constructor({ url, getKey, healthUrl }) {
    this.url = url;
    this.getKey = getKey;
    this.healthUrl = healthUrl;
    /** @type {ConnectionState} */
    this.state = "disconnected";
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
    this.queue = [];
    this.attempt = 0;
    this.retryTimer = 0;
    this.retryAt = 0;
    this.everOpened = false; // this socket reached "open"
    this.idleClosed = false; // the server ended an idle session: reconnect only when there is something to send
  }

  /**
   * Listen to a server event type, "*" for every server event, or one of the client's own:
   * "state" (ConnectionState changed), "open" (a session began: configure it), "refused" ({hasKey}).
   * @returns {() => void} a function that removes the handler
   */
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type).delete(handler);
  }

  emit(type, payload) {
    for (const handler of this.handlers.get(type) || []) {
      try {
        handler(payload);
      } catch (error) {
        console.error(`handler for ${type} failed`, error);
      }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  get connected() {
    return this.state === "connected";
  }

  /** Open the connection unless it is open or opening. */
  connect() {
    if (this.socket || this.retryTimer) return;
    this.idleClosed = false;
    this.setState(this.attempt > 0 ? "reconnecting" : "connecting");
    const key = this.getKey().trim();
    const protocols = ["realtime"];
    if (key) protocols.push("openai-insecure-api-key." + key);
    let socket;
    try {
      socket = new WebSocket(this.url, protocols);
    } catch (error) {
      // A key with characters a subprotocol cannot hold, for one.
      this.emit("refused", { hasKey: Boolean(key), reason: String(error.message || error) });
      this.setState("disconnected");
      return;
    }
    this.socket = socket;
    this.everOpened = false;
    socket.onopen = () => {
      this.everOpened = true;
      this.attempt = 0;
      this.setState("connected");
      this.emit("open");
      const queued = this.queue;
      this.queue = [];
      for (const event of queued) this.send(event);
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => this.closed(socket, event);
  }

  /** Close for good (until connect() is called again). */
  close() {
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000);
    this.setState("disconnected");
  }

  /** Drop the connection and open a new one at once (a new API key, say). */
  reconnect() {
    this.close();
    this.attempt = 0;
    this.queue = [];
    this.connect();
  }

  /**
   * Send a client event. While not connected, events are queued and go out after the next session.update,
   * unless `queue` is false (microphone audio and camera frames: stale by the time a connection is back).
   * @returns {boolean} whether it was sent now
   */
  send(event, { queue = true } = {}) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(event));
      return true;
    }
    if (queue) {
      if (this.queue.length >= QUEUE_LIMIT) this.queue.shift();
      this.queue.push(event);
      if (this.state === "disconnected") this.connect(); // after an idle close: reconnect on demand
    }
    return false;
  }

  receive(data) {
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      console.warn("not JSON from the server", data);
      return;
    }
    if (event.type === "error" && event.error && event.error.code === "idle_timeout") this.idleClosed = true;
    this.emit("*", event);
    this.emit(event.type, event);
  }

  async closed(socket, event) {
    if (socket !== this.socket) return; // closed on purpose by close()/reconnect()
    this.socket = null;
    if (this.idleClosed) {
      this.setState("disconnected"); // connect() again when the person speaks, types or presses Start
      return;
    }
    if (!this.everOpened && (await this.serverIsUp())) {
      // The server answers HTTP but refused the WebSocket: almost surely the API key (missing or wrong).
      this.setState("disconnected");
      this.emit("refused", { hasKey: Boolean(this.getKey().trim()), code: event.code });
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt++;
    this.retryAt = Date.now() + wait;
    this.setState("reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = 0;
      this.connect();
    }, wait);
  }

  async serverIsUp() {
    try {
      const response = await fetch(this.healthUrl, { cache: "no-store" });
      return response.ok;
    } catch {
      return false;
    }
  }
}
