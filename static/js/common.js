// Shared by every page: fetch with CSRF and the contract's {code, detail} errors, a live socket
// with reconnect and backoff, a connection indicator, small DOM and formatting helpers.

export const KITCHEN_LABEL = { queued: "대기", cooking: "조리중", served: "서빙완료" };

// --- HTTP -------------------------------------------------------------------------------------------

/** To the login page, coming back here (path and query) after; `afterMs` lets a message be read first. */
export function toLogin(afterMs = 0) {
  setTimeout(() => location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname + location.search)}`), afterMs);
}

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export class ApiError extends Error {
  constructor(status, body) {
    const data = body && typeof body === "object" ? body : {};
    super(data.detail || `요청을 처리하지 못했습니다 (${status}).`);
    this.status = status;
    this.code = data.code || `http_${status}`;
    this.detail = this.message;
    this.body = data;
  }
}

/** The Korean particle after `word`: `withFinal` (은, 을, 과, 이) after a final consonant, else `withoutFinal`
 * (는, 를, 와, 가). A word that does not end in Hangul (a name in Latin letters) takes `withoutFinal`. */
export function particle(word, withFinal, withoutFinal) {
  const text = String(word);
  const last = text.slice(-1);
  // A number is read out: 영 일 이 삼 사 오 육 칠 팔 구 (and 십, 백, 천, 만 all end in a consonant).
  if (/[0-9]/.test(last)) return "013678".includes(last) ? withFinal : withoutFinal;
  const code = last.charCodeAt(0) - 0xac00;
  return code >= 0 && code < 11172 && code % 28 !== 0 ? withFinal : withoutFinal;
}

/** localStorage keys of the kitchen board's last known tickets (board.js), one per station. */
export const KEPT_PREFIX = "board:kept:";

/** A logout forgets what this browser kept of the staff screens (the board's offline copy of its page and its
 * last tickets), so that nobody opens them offline after it. The logout form is on every staff page. */
function forgetOnLogout() {
  const form = document.querySelector(".logout-form");
  if (!form) return;
  form.addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      for (const key of Object.keys(localStorage)) if (key.startsWith(KEPT_PREFIX)) localStorage.removeItem(key);
      const cleared = window.caches ? caches.keys().then((names) => Promise.all(names.map((name) => caches.delete(name)))) : Promise.resolve();
      cleared.catch(() => {}).finally(() => form.submit());
    },
    { once: true },
  );
}

forgetOnLogout();

/** Offline reloads of this page through its service worker (templates/offline_worker.js), where the browser
 * allows one: https, or localhost; not plain http on a LAN address, where what the page keeps is still kept but
 * a reload needs the network. `body[data-offline-ready]` says when the page and its files are kept. */
export function keepForOffline(workerUrl, scope) {
  if (!("serviceWorker" in navigator)) return;
  const passedThrough = Boolean(navigator.serviceWorker.controller); // before the worker may claim this page
  const ready = () => (document.body.dataset.offlineReady = "true");
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.kept) ready();
  });
  navigator.serviceWorker
    .register(workerUrl, { scope })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      if (passedThrough) return ready(); // this load came through the worker, which kept what it loaded
      // The first load ran before the worker: name what it loaded, to be kept now.
      const files = performance.getEntriesByType("resource").map((entry) => [entry.name, false]);
      registration.active.postMessage({ keep: [[location.href, true], ...files] });
    })
    .catch((error) => console.warn("no offline reload", error));
}

/** A random UUID (v4). crypto.randomUUID needs a secure context; a pub's LAN over plain http is not one. */
export function uuid() {
  if (window.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * JSON request to the API; resolves to the body, rejects with ApiError (network faults: status 0).
 * idempotencyKey: sent as `Idempotency-Key` (staff writes, CONTRACT.md section 10); reuse it to resend the
 * same write after an unknown outcome, the server answers a repeat with the first answer.
 * withReplayed: resolves to `{data, replayed}`, replayed telling that the answer is such a first answer
 * (which may be older than what the page has heard since).
 */
export async function api(path, { method = "GET", body, idempotencyKey, timeoutMs, withReplayed = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = cookie("csrftoken");
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  // A Wi-Fi that is up but carries nothing leaves a fetch hanging: timeoutMs gives up (status 0, like offline).
  const signal = timeoutMs && window.AbortSignal?.timeout ? AbortSignal.timeout(timeoutMs) : undefined;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch {
    throw new ApiError(0, { code: "network_error", detail: "서버에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요." });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 || (response.status === 403 && data?.code === "not_authenticated")) {
      data = { code: "not_authenticated", detail: "로그인이 필요합니다. 다시 로그인해 주세요." };
    }
    throw new ApiError(response.status, data);
  }
  return withReplayed ? { data, replayed: response.headers.get("Idempotent-Replayed") === "true" } : data;
}

// --- live socket ------------------------------------------------------------------------------------

// A live socket hears a heartbeat every WS_HEARTBEAT_SECONDS (15 s), or whatever the feed sends. After a quiet
// moment the page pings, so a link that died without a close (Wi-Fi gone, the socket still "open") is found
// within seconds, not after a minute of a screen that says it is live and is not.
const PING_WHEN_QUIET_MS = 8_000;
const SILENCE_LIMIT_MS = 20_000; // nothing heard this long, not even a pong: the link is dead
const KEEP_ALIVE_CHECK_MS = 2_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const LOST_NOTICE_AFTER_MS = 2_500;
// An event ahead of the next expected seq waits this long for the ones before it (two server processes
// may deliver a feed's events slightly out of order); a heartbeat ahead of the last event, as long.
const GAP_WAIT_MS = 1_500;
const MENU_READ_SPREAD_MS = 1_000;

/**
 * Keep a socket to `path` open for the life of the page, and its feed complete.
 * onMessage(msg) gets the snapshot, then the feed's events in seq order, each once, then and after every
 * reconnect (a fresh snapshot, which the page renders from). Events carrying a seq are the feed's: one at
 * or below the last seen is a repeat and dropped; one ahead of the next waits for the missing ones a
 * moment, then the page reconnects for a fresh snapshot, as it does when a heartbeat says the feed is
 * further than its last event (an event lost to a Redis outage or a server restart).
 * State messages (food.updated) and heartbeats carry no feed seq and are passed on as they come.
 * onState(state, info): "connecting" | "open" | "waiting" (info.retryInMs) | "denied" | "missing".
 * onMenuStale(): the menu changed since the snapshot in a way this page may not have heard (a heartbeat's
 * menu_version differs, and food.updated carries none): read GET /api/foods/ again. Every screen of the
 * venue gets its heartbeat at the same moment, so the calls are spread over a second.
 */
export function connectLive(path, { onMessage, onState = () => {}, onMenuStale = null }) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let lastHeard = 0;
  let stopped = false;
  let seq = null; // the feed's last seq this page has (from the snapshot, then each event in order)
  let held = new Map(); // seq -> event that came ahead of a missing one
  let gapTimer = null; // waiting for a missing event
  let behind = 0; // the feed's seq a heartbeat announced that this page has not reached yet
  let behindTimer = null;
  let menuVersion = null; // the menu's version as of the snapshot, or the latest heartbeat that moved it

  function resync(reason) {
    // Behind the server: a new connection brings a fresh snapshot. At once: the old link's close handshake
    // is not waited for (the link may be dying too).
    console.info("live: resync", reason);
    if (!socket) return;
    abandon().close(4000, "resync");
    open();
  }

  /** Stop listening to the current socket (its late messages and close are ignored) and return it. */
  function abandon() {
    const old = socket;
    socket = null;
    clearInterval(pingTimer);
    clearTimers();
    return old;
  }

  function deliver(msg) {
    if (msg.type === "snapshot") {
      seq = typeof msg.seq === "number" ? msg.seq : null;
      menuVersion = msg.menu_version ?? null;
      held = new Map();
      clearTimers();
      onMessage(msg);
      return;
    }
    if (msg.type === "heartbeat") {
      if (seq !== null && typeof msg.seq === "number" && msg.seq > seq && !behindTimer) {
        behind = msg.seq;
        behindTimer = setTimeout(() => resync(`heartbeat ${behind} > ${seq}`), GAP_WAIT_MS);
      }
      if (onMenuStale && msg.menu_version && menuVersion && msg.menu_version !== menuVersion) {
        menuVersion = msg.menu_version;
        setTimeout(onMenuStale, Math.random() * MENU_READ_SPREAD_MS);
      }
      onMessage(msg);
      return;
    }
    if (typeof msg.seq !== "number" || seq === null) {
      onMessage(msg); // state (food.updated) or an answer (error): not part of the feed
      return;
    }
    if (msg.seq <= seq) return; // already had it (a repeat, or already in the snapshot)
    held.set(msg.seq, msg);
    while (held.has(seq + 1)) {
      seq += 1;
      const next = held.get(seq);
      held.delete(seq);
      onMessage(next);
    }
    clearTimeout(gapTimer);
    gapTimer = held.size ? setTimeout(() => resync(`missing ${seq + 1}`), GAP_WAIT_MS) : null;
    if (behindTimer && seq >= behind) {
      clearTimeout(behindTimer);
      behindTimer = null;
    }
  }

  function clearTimers() {
    clearTimeout(gapTimer);
    clearTimeout(behindTimer);
    gapTimer = behindTimer = null;
  }

  function open() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (stopped) return;
    onState("connecting", { attempt });
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener("open", () => {
      if (socket !== ws) return;
      lastHeard = Date.now();
      clearInterval(pingTimer);
      pingTimer = setInterval(keepAlive, KEEP_ALIVE_CHECK_MS);
    });
    ws.addEventListener("message", (event) => {
      if (socket !== ws) return; // a socket given up for dead (keepAlive) that still delivers
      lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === "snapshot" || (doubted && navigator.onLine)) {
        if (msg.type === "snapshot") attempt = 0; // the link works: next drop starts the backoff again
        doubted = false;
        onState("open", {});
      }
      if (msg.type !== "pong") deliver(msg);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return; // given up already (keepAlive, resync): the next one is on its way
      abandon();
      if (stopped) return;
      if (event.code === 4404) return onState("missing", {});
      if (event.code === 4401 || event.code === 4403) {
        onState("denied", { code: event.code });
        retryTimer = setTimeout(open, BACKOFF_MAX_MS); // the session may come back (login in another tab)
        return;
      }
      schedule();
    });
  }

  let lastPing = 0;
  function keepAlive() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (now - lastHeard > SILENCE_LIMIT_MS) {
      // A dead link: its close handshake could take as long again, so the page moves on at once.
      abandon().close();
      schedule();
      return;
    }
    if (now - lastHeard >= PING_WHEN_QUIET_MS && now - lastPing >= PING_WHEN_QUIET_MS) ping();
  }

  function ping() {
    lastPing = Date.now();
    socket.send(JSON.stringify({ type: "ping" }));
  }

  function schedule() {
    // Exponential backoff with full jitter: hundreds of phones dropped by one Wi-Fi blip come back spread
    // over the whole window, not in waves.
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    const delay = Math.round(Math.random() * exp);
    attempt += 1;
    onState("waiting", { retryInMs: delay, attempt });
    retryTimer = setTimeout(open, delay);
  }

  function retryNow() {
    if (!stopped && !socket && retryTimer) {
      attempt = 0;
      open();
    }
  }
  // Offline under an open socket, the page cannot tell whether the link survived: back online it pings, and
  // the next message it hears proves the link again ("open"); silence is found out by keepAlive.
  let doubted = false;
  window.addEventListener("offline", () => {
    if (socket) doubted = true;
  });
  window.addEventListener("online", () => {
    retryNow();
    if (doubted && socket && socket.readyState === WebSocket.OPEN) ping();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") retryNow();
  });

  open();
  return {
    send(msg) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
    },
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      if (socket) socket.close();
    },
  };
}

/** Show the socket state in `element` (data-state drives the colour; text for people). */
export function liveIndicator(element) {
  let countdown = null;
  let wasOpen = false;
  let lostTimer = null;
  let last = ["connecting", {}];
  // The browser knows it is offline before a socket notices (a half-open one may look open for a minute).
  // Back online, the socket must prove itself (connectLive reports "open" at its next message) before the
  // banner goes: a socket that died while offline would otherwise look live until it is found out.
  const network = () => show(...last, { networkOnly: true });
  window.addEventListener("offline", network);
  window.addEventListener("online", network);
  return show;
  function show(state, info = {}, { networkOnly = false } = {}) {
    last = [state, info];
    clearInterval(countdown);
    element.dataset.offline = String(!navigator.onLine);
    element.dataset.state = state;
    document.body.dataset.live = state;
    // After a drop the screen may be stale until the next snapshot: say so (body.live-lost), but only
    // when it lasts; a phone waking up reconnects within a second.
    if (state === "open") wasOpen = true;
    if (state === "open" && navigator.onLine) {
      if (!networkOnly) {
        clearTimeout(lostTimer);
        lostTimer = null;
        document.body.classList.remove("live-lost");
      }
    } else if (wasOpen && !lostTimer) {
      // Offline with the socket still "open" too: the browser knows before the socket does.
      lostTimer = setTimeout(() => document.body.classList.add("live-lost"), LOST_NOTICE_AFTER_MS);
    }
    const label = element.querySelector(".live-label") || element;
    if (state === "open") label.textContent = "실시간 연결됨";
    else if (state === "connecting") label.textContent = info.attempt ? "다시 연결 중…" : "연결 중…";
    else if (state === "denied") label.textContent = "로그인이 필요합니다";
    else if (state === "missing") label.textContent = "테이블을 찾을 수 없습니다";
    else if (state === "waiting") {
      const until = Date.now() + info.retryInMs;
      const tick = () => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        label.textContent = `연결 끊김 · ${left}초 후 재시도`;
      };
      tick();
      countdown = setInterval(tick, 500);
    }
    if (!navigator.onLine) {
      clearInterval(countdown);
      label.textContent = "오프라인 · 연결을 기다리는 중";
    }
  }
}

// --- DOM --------------------------------------------------------------------------------------------

/** h("button", {class: "btn", onclick: fn, dataset: {id: 1}}, "text", child) */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") node.setAttribute("style", value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the children of `node`, skipping null/false (like h does). */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

const TOASTS_KEPT = 3;

export function toast(message, kind = "info", ms = 4500) {
  const box = document.getElementById("toasts");
  if (!box) return;
  // A tap puts it away: on a phone it covers the header (the table's name, 직원 호출) while it shows.
  const item = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", title: "눌러서 닫기", onclick: () => item.remove() },
    message,
  );
  box.append(item);
  while (box.children.length > TOASTS_KEPT) box.firstElementChild.remove();
  raiseToTop(box);
  setTimeout(() => {
    item.classList.add("leaving");
    setTimeout(() => {
      item.remove();
      if (!box.children.length && box.hidePopover && box.matches(":popover-open")) box.hidePopover();
    }, 300);
  }, ms);
}

/** showModal() that keeps the toasts visible above the new dialog. */
export function openModal(dialog) {
  if (!dialog.open) dialog.showModal();
  const box = document.getElementById("toasts");
  if (box && box.children.length) raiseToTop(box);
}

/** An open modal <dialog> sits in the top layer; re-entering it last keeps the toasts above the dialog. */
function raiseToTop(box) {
  if (!box.showPopover) return; // no popover support: a plain fixed box, below any open dialog
  if (box.matches(":popover-open")) box.hidePopover();
  box.showPopover();
}

// --- formatting -------------------------------------------------------------------------------------

export function won(amount) {
  return `${Number(amount || 0).toLocaleString("ko-KR")}원`;
}

// The pub's own clock (CONTRACT.md section 2: Asia/Seoul), whatever the device is set to: the board, the
// phones and the night report then name the same minute.
export const TIME_ZONE = "Asia/Seoul";

export function clock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleTimeString("ko-KR", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: TIME_ZONE });
}

/** "m:ss" or "h:mm:ss" for a duration in ms. */
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

