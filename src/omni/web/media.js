// media.js — what Omni sees. The camera or the screen as a MediaStream shown in #preview; frames sampled from it
// to JPEG (longer side ≤ 768 px) on a schedule tied to the conversation; images from paste or drag-and-drop
// turned into JPEG data URLs. Sending is the caller's job (`onFrame`).

export const FRAME_MAX_SIDE = 768;
export const FRAME_QUALITY = 0.7;
/** Pasted or dropped images are often screenshots: they keep more detail, so text in them stays readable. */
export const IMAGE_MAX_SIDE = 1536;
export const IMAGE_QUALITY = 0.85;
/** At most one frame a second while the person speaks... */
export const SPEAKING_FRAME_INTERVAL_MS = 1000;
/** ...and one every ten seconds otherwise, while a camera or screen is shared. */
export const IDLE_FRAME_INTERVAL_MS = 10000;
/** A frame at the start of speech is skipped if one went out this recently. */
const MIN_FRAME_GAP_MS = 300;

/** Why the camera or screen could not start, in words a person can act on. */
export class VisionError extends Error {}

/** Draw `source` (a video or an image bitmap) scaled so its longer side is at most `maxSide`; a JPEG data URL. */
function toJpeg(source, width, height, maxSide, quality) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // JPEG has no transparency: transparent pixels become white, not black
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", quality);
}

/**
 * An image file or clipboard blob as a JPEG data URL (longer side ≤ IMAGE_MAX_SIDE).
 * @param {Blob} blob
 * @returns {Promise<string>}
 */
export async function imageToJpeg(blob) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new VisionError(`Omni can't open that image (${blob.type || "unknown type"}). Try a PNG or JPEG.`);
  }
  try {
    return toJpeg(bitmap, bitmap.width, bitmap.height, IMAGE_MAX_SIDE, IMAGE_QUALITY);
  } finally {
    bitmap.close();
  }
}

/** The image files among a paste's or a drop's items. */
export function imageFiles(dataTransfer) {
  if (!dataTransfer) return [];
  const files = [...(dataTransfer.files || [])];
  if (files.length === 0 && dataTransfer.items) {
    for (const item of dataTransfer.items) {
      if (item.kind === "file") {
        const file = item.getAsFile();
        if (file) files.push(file);
      }
    }
  }
  return files.filter((file) => file.type.startsWith("image/"));
}

/** The camera or the screen, shown in a <video>, sampled to frames on the conversation's rhythm. */
export class VisionSource {
  /**
   * @param {HTMLVideoElement} video the #preview element
   * @param {{onFrame: (dataUrl: string, reason: string) => void, onChange: (kind: string | null) => void}} handlers
   */
  constructor(video, handlers) {
    this.video = video;
    this.handlers = handlers;
    /** @type {"camera" | "screen" | null} */
    this.kind = null;
    /** @type {MediaStream | null} */
    this.stream = null;
    this.speaking = false;
    this.lastFrameAt = 0;
    this.timer = 0;
  }

  /** Share the camera or the screen (stopping the other). Throws VisionError. */
  async start(kind) {
    const devices = navigator.mediaDevices;
    if (!devices || (kind === "camera" ? !devices.getUserMedia : !devices.getDisplayMedia)) {
      throw new VisionError(kind === "camera"
        ? "This browser gives no access to a camera here (it needs a secure page: localhost or HTTPS)."
        : "This browser cannot share the screen here (it needs a secure page: localhost or HTTPS).");
    }
    let stream;
    try {
      stream = kind === "camera"
        ? await devices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
        : await devices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      throw visionError(kind, error);
    }
    this.stop();
    this.kind = kind;
    this.stream = stream;
    for (const track of stream.getVideoTracks()) {
      // The browser's own "Stop sharing" button, or a camera unplugged.
      track.addEventListener("ended", () => {
        if (this.stream === stream) this.stop();
      });
    }
    this.video.srcObject = stream;
    await this.video.play().catch(() => {});
    await videoReady(this.video);
    this.handlers.onChange(kind);
    this.sendFrame("start");
    this.timer = setInterval(() => this.tick(), 250);
  }

  stop() {
    if (!this.stream) return;
    clearInterval(this.timer);
    for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.kind = null;
    this.video.srcObject = null;
    this.handlers.onChange(null);
  }

  get active() {
    return this.stream !== null;
  }

  /** The current picture as a JPEG data URL, or null if there is none yet. */
  frame() {
    const { video } = this;
    if (!this.stream || !video.videoWidth || !video.videoHeight) return null;
    return toJpeg(video, video.videoWidth, video.videoHeight, FRAME_MAX_SIDE, FRAME_QUALITY);
  }

  /** Sample one frame now and hand it to onFrame; returns whether there was one. */
  sendFrame(reason) {
    const dataUrl = this.frame();
    if (!dataUrl) return false;
    this.lastFrameAt = performance.now();
    this.handlers.onFrame(dataUrl, reason);
    return true;
  }

  /** The person started speaking: Omni gets a look at once, then one a second while they speak. */
  speechStarted() {
    this.speaking = true;
    if (this.active && performance.now() - this.lastFrameAt >= MIN_FRAME_GAP_MS) this.sendFrame("speech");
  }

  speechStopped() {
    this.speaking = false;
  }

  tick() {
    const interval = this.speaking ? SPEAKING_FRAME_INTERVAL_MS : IDLE_FRAME_INTERVAL_MS;
    if (performance.now() - this.lastFrameAt >= interval) this.sendFrame(this.speaking ? "speaking" : "idle");
  }
}

/** Resolves once the video knows its size (or after a second, whatever came). */
function videoReady(video) {
  if (video.videoWidth) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    video.addEventListener("loadedmetadata", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function visionError(kind, error) {
  const name = error && error.name;
  if (kind === "screen") {
    if (name === "NotAllowedError") return new VisionError("Screen sharing was cancelled or is not allowed.");
    return new VisionError(`Omni can't see your screen: ${(error && error.message) || name}.`);
  }
  if (name === "NotAllowedError" || name === "SecurityError") {
    return new VisionError("Omni can't see you: camera access was denied. Allow it in the browser's site settings.");
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return new VisionError("Omni can't see you: no camera was found.");
  }
  if (name === "NotReadableError") {
    return new VisionError("Omni can't see you: the camera is in use by another app.");
  }
  return new VisionError(`Omni can't see you: ${(error && error.message) || name}.`);
}
