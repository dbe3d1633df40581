// /kitchen/[?station=kitchen|bar]: the wall screen. Open tickets from the /ws/kitchen/ snapshot plus
// events, oldest first. With a station, each ticket shows and moves only that station's lines; without,
// it is the expo view of whole tickets. Staff calls stay until someone acknowledges them.
// Taps survive a dropped Wi-Fi (CONTRACT.md section 10): each is shown at once, kept in localStorage with its
// own Idempotency-Key, and sent in order once the board is live again. A reload while offline still opens the
// board (its service worker, /kitchen/sw.js) with the tickets it last knew, kept in localStorage.
import { $, api, clock, connectLive, duration, h, KEPT_PREFIX, keepForOffline, KITCHEN_LABEL, liveIndicator, particle, TIME_ZONE, toast, toLogin, uuid } from "./common.js";
import { staffCalls } from "./calls.js";

const board = $("#board");
const STATION = board.dataset.station || null; // "kitchen" | "bar" | null: the expo view
const STATION_NAMES = { kitchen: "주방", bar: "바" };
// Drinks are poured, not cooked: the bar's words for the same steps.
const BAR_LABEL = { queued: "대기", cooking: "준비중", served: "서빙완료" };
const PART_LABEL = STATION === "bar" ? BAR_LABEL : KITCHEN_LABEL;
const START_LABEL = STATION === "bar" ? "준비시작" : "조리시작";
const WARN_MS = Number(board.dataset.warnMinutes || 10) * 60_000;
const LATE_MS = Number(board.dataset.lateMinutes || 20) * 60_000;
const SERVED_KEEP = 6;
const SERVED_KEY = `board:served:${STATION || "all"}`; // each station recalls its own
const SOUND_KEY = "board:sound";
const QUEUE_KEY = `board:queue:${STATION || "all"}`;
const KEPT_KEY = `${KEPT_PREFIX}v1:${STATION || "all"}`; // the server's open tickets and calls as last known
const KEEP_EVERY_MS = 500;
const KEPT_MAX_AGE_MS = 12 * 3_600_000; // a copy from an earlier night is not what the kitchen has now
const ACTION_LABEL = { cooking: START_LABEL, served: "서빙완료", recall: "되돌리기" };
// The next button of a ticket appears where the finger still is: a double tap must not start and serve.
const TAP_GUARD_MS = 600;
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 15_000;
const SEND_TIMEOUT_MS = 10_000; // no answer by then: the outcome is unknown, the tap is resent with its key
const NOTES_KEPT = 5;

const state = {
  tickets: new Map(), // order id -> Order (completed, queued or cooking)
  served: loadServed(), // [{order, servedAt}] newest first
  known: new Map(), // order id -> the server's latest version of it (snapshot, event or our own answer)
  notOpen: new Set(), // order ids missing from the latest snapshot: no longer an open ticket here
  queue: loadQueue(), // taps not yet answered, oldest first: [{key, orderId, action, target, from, body, ...}]
  lastTap: new Map(), // order id -> time of its last tap (TAP_GUARD_MS)
  notes: [], // taps dropped because they no longer apply: [{id, text, detail}]
  connection: "connecting",
  live: false, // the socket is open and its snapshot applied: the board knows the server's state
  sendFailed: false, // the last send hit a network fault or a 5xx
  fresh: new Set(), // order ids to animate once
  snapshots: 0,
  clockOffset: 0, // server time - local time, so a wall screen with a wrong clock still ages right
  keptAt: null, // shown from what was kept at this time, until the first snapshot
};

function loadServed() {
  try {
    return JSON.parse(sessionStorage.getItem(SERVED_KEY)) || [];
  } catch {
    return [];
  }
}

function saveServed() {
  try {
    sessionStorage.setItem(SERVED_KEY, JSON.stringify(state.served));
  } catch {
    // not kept across reloads then
  }
}

/** What the board last knew of the server, for a reload that finds no connection. */
function writeKept() {
  const orders = [...state.known.values()].filter(
    (order) => !state.notOpen.has(order.id) && (isOpenTicket(order) || pendingOf(order.id).length),
  );
  try {
    localStorage.setItem(KEPT_KEY, JSON.stringify({ at: new Date().toISOString(), orders, calls: [...calls.calls.values()] }));
  } catch {
    // storage full or blocked: an offline reload then shows only the waiting taps
  }
}

let keepTimer = null;
let keeping = true; // until a logout, which forgets what was kept (common.js)
function keep() {
  if (keepTimer || !keeping) return;
  keepTimer = setTimeout(() => {
    keepTimer = null;
    writeKept();
  }, KEEP_EVERY_MS);
}

function keepNow() {
  if (!keepTimer || !keeping) return;
  clearTimeout(keepTimer);
  keepTimer = null;
  writeKept();
}

function forgetKept() {
  localStorage.removeItem(KEPT_KEY);
}

/** Show what was kept until the first snapshot. A copy that cannot be shown (a release changed the shape of
 * an order) or that is from an earlier night is forgotten: the board then waits for its snapshot as before. */
function restoreKept() {
  let kept = null;
  try {
    kept = JSON.parse(localStorage.getItem(KEPT_KEY));
  } catch {
    // unreadable: forgotten below
  }
  if (!kept || !Array.isArray(kept.orders) || !(Date.now() - Date.parse(kept.at) < KEPT_MAX_AGE_MS)) {
    forgetKept();
    return;
  }
  try {
    applySnapshot(kept.orders); // counted as a snapshot: tickets that arrive while away are announced as new
    state.keptAt = kept.at;
    renderTickets();
    calls.snapshot(Array.isArray(kept.calls) ? kept.calls : []);
  } catch (error) {
    console.warn("board: the kept tickets could not be shown", error);
    forgetKept();
    Object.assign(state, { tickets: new Map(), known: new Map(), notOpen: new Set(), snapshots: 0, keptAt: null });
    renderTickets();
  }
}

function now() {
  return Date.now() + state.clockOffset;
}

function loadQueue() {
  try {
    const queue = JSON.parse(localStorage.getItem(QUEUE_KEY));
    return Array.isArray(queue) ? queue.filter((entry) => entry && entry.key && entry.orderId && entry.body) : [];
  } catch {
    return [];
  }
}

function saveQueue() {
  try {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(state.queue));
  } catch {
    // storage full or blocked: the taps are still sent from memory while this page stays open
  }
}

// --- sound ------------------------------------------------------------------------------------------

const sound = {
  enabled: localStorage.getItem(SOUND_KEY) !== "off",
  context: null,
  unlock() {
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) return;
    if (!this.context) this.context = new AudioContext();
    if (this.context.state === "suspended") this.context.resume().then(renderSoundToggle, () => {});
    renderSoundToggle();
  },
  /** A short beep; no audio file. notes: [[frequency Hz, start s, length s], ...] */
  play(notes) {
    if (!this.enabled || !this.context || this.context.state !== "running") return;
    const t0 = this.context.currentTime + 0.01;
    for (const [frequency, start, length] of notes) {
      const osc = this.context.createOscillator();
      const gain = this.context.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, t0 + start);
      gain.gain.exponentialRampToValueAtTime(0.35, t0 + start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + length);
      osc.connect(gain).connect(this.context.destination);
      osc.start(t0 + start);
      osc.stop(t0 + start + length + 0.02);
    }
  },
  newTicket() {
    this.play([
      [880, 0, 0.16],
      [1320, 0.18, 0.22],
    ]);
  },
  staffCall() {
    this.play([
      [660, 0, 0.14],
      [660, 0.2, 0.14],
      [660, 0.4, 0.14],
    ]);
  },
};

function renderSoundToggle() {
  const button = $("#sound-toggle");
  const blocked = sound.enabled && (!sound.context || sound.context.state !== "running");
  button.setAttribute("aria-pressed", String(sound.enabled && !blocked));
  button.textContent = !sound.enabled ? "소리 꺼짐" : blocked ? "소리 켜기 (눌러 주세요)" : "소리 켜짐";
}

// --- tickets ----------------------------------------------------------------------------------------

/** A set of line statuses as one (CONTRACT.md section 3): all served, none started, else cooking. */
function statusOf(statuses) {
  if (statuses.every((status) => status === "served")) return "served";
  if (statuses.every((status) => status === "queued")) return "queued";
  return "cooking";
}

/** How many of each food of the order were refunded (food id -> quantity). */
function refundedOf(order) {
  const refunded = new Map();
  for (const refund of order.refunds || []) refunded.set(refund.food.id, (refunded.get(refund.food.id) || 0) + refund.quantity);
  return refunded;
}

/** The order's lines still to make, each with what is left of it after refunds; a line refunded whole is
 * nobody's to make (as the server's Order.lines_to_make). */
function toMake(order) {
  const refunded = refundedOf(order);
  return order.items
    .map((item) => ({ ...item, quantity: item.quantity - (refunded.get(item.food.id) || 0) }))
    .filter((item) => item.quantity > 0);
}

/** The lines this board prepares: its station's, or all of them on the expo view; refunded ones left out. */
function linesOf(order) {
  const lines = toMake(order);
  return STATION ? lines.filter((item) => item.station === STATION) : lines;
}

/** What this board sees of an order: its station's part, or the whole ticket. */
function partStatus(order) {
  return STATION ? statusOf(linesOf(order).map((item) => item.kitchen_status)) : order.kitchen_status;
}

/** Refunded whole: nothing left to make (as the server's open tickets, ordering.models.FULLY_REFUNDED). */
function fullyRefunded(order) {
  return order.total_amount > 0 && order.refunded_amount >= order.total_amount;
}

function isOpenTicket(order) {
  return order.status === "completed" && linesOf(order).length > 0 && partStatus(order) !== "served" && !fullyRefunded(order);
}

function sortedTickets() {
  const key = (order) => order.paid_at || order.order_date;
  return [...state.tickets.values()].sort((a, b) => (key(a) === key(b) ? (a.id < b.id ? -1 : 1) : key(a) < key(b) ? -1 : 1));
}

function ageClass(ms) {
  if (ms >= LATE_MS) return "age-late";
  if (ms >= WARN_MS) return "age-warn";
  return "age-fresh";
}

function ticketAge(order) {
  return now() - new Date(order.paid_at || order.order_date).getTime();
}

function lineItem(item) {
  const served = item.kitchen_status === "served";
  return h(
    "li",
    { class: served ? "is-served" : "", dataset: { station: item.station, kitchenStatus: item.kitchen_status } },
    h("span", { class: "ticket-qty" }, item.quantity),
    h("span", { class: "ticket-food" }, item.food.name),
    // The expo view names the bar's lines and ticks off what is already out.
    !STATION && item.station === "bar" ? h("span", { class: "line-station" }, "바") : null,
    served ? h("span", { class: "line-done", "aria-label": "서빙완료" }, "✓") : null,
  );
}

/** On a station board: what the other station still has on this ticket, so nobody sends half an order. */
function otherPart(order) {
  if (!STATION) return null;
  const others = toMake(order).filter((item) => item.station !== STATION);
  if (!others.length) return null;
  const status = statusOf(others.map((item) => item.kitchen_status));
  const other = others[0].station;
  const count = others.reduce((sum, item) => sum + item.quantity, 0);
  const label = (other === "bar" ? BAR_LABEL : KITCHEN_LABEL)[status];
  return h("p", { class: "ticket-other" }, `+ ${STATION_NAMES[other] || other} ${count}개 · ${label}`);
}

function pendingOf(orderId) {
  return state.queue.filter((entry) => entry.orderId === orderId);
}

function guarded(orderId) {
  return Date.now() - (state.lastTap.get(orderId) || 0) < TAP_GUARD_MS;
}

/** "보내기 대기" on a ticket whose taps the server has not answered yet. */
function pendingBadge(orderId) {
  const count = pendingOf(orderId).length;
  if (!count) return null;
  return h("span", { class: "pending-badge", title: "연결되면 보냅니다" }, count > 1 ? `보내기 대기 ${count}` : "보내기 대기");
}

function ticketCard(order) {
  const age = ticketAge(order);
  const busy = guarded(order.id);
  const part = partStatus(order);
  const pending = pendingOf(order.id).length > 0;
  const action =
    part === "queued"
      ? h("button", { type: "button", class: "btn btn-start", dataset: { action: "cooking", id: order.id }, disabled: busy }, START_LABEL)
      : h("button", { type: "button", class: "btn btn-serve", dataset: { action: "served", id: order.id }, disabled: busy }, "서빙완료");
  const refunded = order.refunds.length
    ? h("p", { class: "ticket-refund" }, `환불: ${order.refunds.map((r) => `${r.food.name} ${r.quantity}`).join(", ")}`)
    : null;
  return h(
    "article",
    {
      class: `ticket ${ageClass(age)}${state.fresh.has(order.id) ? " is-new" : ""}${pending ? " is-pending" : ""}`,
      dataset: { orderId: order.id, kitchenStatus: part, paidAt: order.paid_at || order.order_date, pending: String(pending) },
    },
    h(
      "header",
      { class: "ticket-head" },
      h("div", {}, h("div", { class: "ticket-table" }, order.table_name), h("div", { class: "ticket-number" }, order.order_number)),
      h("div", { class: "ticket-age", "data-role": "age" }, duration(age)),
    ),
    h(
      "div",
      { class: "ticket-status" },
      h("span", { class: "ticket-state-row" }, h("span", { class: "ticket-state" }, PART_LABEL[part]), pendingBadge(order.id)),
      h("span", {}, `${clock(order.paid_at || order.order_date)} 주문${order.payer_name ? ` · ${order.payer_name}` : ""}`),
    ),
    h("ul", { class: "ticket-items" }, linesOf(order).map(lineItem)),
    otherPart(order),
    refunded,
    h("div", { class: "ticket-actions" }, action),
  );
}

function renderTickets() {
  const tickets = sortedTickets();
  const box = $("#tickets");
  const empty = STATION ? `${STATION_NAMES[STATION]}에서 준비할 주문이 없습니다` : "조리할 주문이 없습니다";
  box.replaceChildren(...(tickets.length ? tickets.map(ticketCard) : [h("div", { class: "board-empty" }, empty)]));
  state.fresh.clear();
  $("#count-queued").textContent = tickets.filter((o) => partStatus(o) === "queued").length;
  $("#count-cooking").textContent = tickets.filter((o) => partStatus(o) === "cooking").length;
  renderAllDay(tickets);
  renderMoreBelow();
}

/** A wall screen is read without touching it: say how many tickets start below the bottom of the screen. */
function renderMoreBelow() {
  const below = [...document.querySelectorAll("#tickets .ticket")].filter((ticket) => ticket.getBoundingClientRect().top > window.innerHeight - 48);
  const button = $("#more-below");
  if (!button) return; // a page kept from before this release (the offline copy) has no such button
  button.hidden = below.length === 0;
  button.textContent = `아래에 주문 ${below.length}건 더 있어요 ↓`;
  button.onclick = () => below[0]?.scrollIntoView({ behavior: "smooth", block: "start" });
}

function renderAllDay(tickets) {
  // Counted by line, from each line's own status: on a mixed ticket the bar's beer may be out already.
  const totals = new Map(); // food id -> {name, queued, cooking}
  for (const order of tickets) {
    for (const item of linesOf(order)) {
      if (item.kitchen_status === "served") continue;
      const row = totals.get(item.food.id) || { name: item.food.name, queued: 0, cooking: 0 };
      row[item.kitchen_status] += item.quantity;
      totals.set(item.food.id, row);
    }
  }
  const rows = [...totals.values()].sort((a, b) => b.queued + b.cooking - (a.queued + a.cooking) || a.name.localeCompare(b.name, "ko"));
  $("#allday").replaceChildren(
    ...(rows.length
      ? rows.map((row) =>
          h(
            "li",
            {},
            h("span", {}, row.name, row.cooking && row.queued ? h("span", { class: "allday-split" }, `${PART_LABEL.cooking} ${row.cooking}`) : null),
            h("span", { class: "allday-count" }, row.queued + row.cooking),
          ),
        )
      : [h("li", { class: "side-empty" }, "없음")]),
  );
}

function renderServed() {
  $("#served").replaceChildren(
    ...(state.served.length
      ? state.served.map(({ order, servedAt }) =>
          h(
            "li",
            { class: "served-item", dataset: { orderId: order.id } },
            h(
              "div",
              { class: "served-info" },
              h("div", { class: "served-table" }, order.table_name, h("span", { class: "allday-split" }, `${clock(servedAt)} 서빙`)),
              h("div", { class: "served-items" }, linesOf(order).map((i) => `${i.food.name} ${i.quantity}`).join(", ")),
              pendingBadge(order.id),
            ),
            h(
              "button",
              { type: "button", class: "btn btn-recall btn-sm", dataset: { action: "recall", id: order.id }, disabled: guarded(order.id) },
              "되돌리기",
            ),
          ),
        )
      : [h("li", { class: "side-empty" }, "아직 없음")]),
  );
}

function tick() {
  for (const card of document.querySelectorAll(".ticket[data-paid-at]")) {
    const age = now() - new Date(card.dataset.paidAt).getTime();
    card.querySelector("[data-role=age]").textContent = duration(age);
    const cls = ageClass(age);
    if (!card.classList.contains(cls)) {
      card.classList.remove("age-fresh", "age-warn", "age-late");
      card.classList.add(cls);
    }
  }
  $("#clock").textContent = new Date(now()).toLocaleTimeString("ko-KR", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: TIME_ZONE });
}

// --- applying orders --------------------------------------------------------------------------------

function rememberServed(order) {
  state.served = [{ order, servedAt: new Date(now()).toISOString() }, ...state.served.filter((s) => s.order.id !== order.id)].slice(
    0,
    SERVED_KEEP,
  );
  saveServed();
}

/** One order's latest state, from an event or from our own PATCH answer. Returns true if it is new here. */
function applyOrder(order) {
  const known = state.tickets.has(order.id);
  const inStrip = state.served.findIndex((s) => s.order.id === order.id);
  if (isOpenTicket(order)) {
    state.tickets.set(order.id, order);
    if (inStrip >= 0) {
      state.served.splice(inStrip, 1); // recalled
      saveServed();
    }
    if (!known) state.fresh.add(order.id);
    return !known;
  }
  state.tickets.delete(order.id);
  const servedHere = order.status === "completed" && linesOf(order).length > 0 && partStatus(order) === "served";
  if (servedHere && known) rememberServed(order);
  else if (inStrip >= 0) {
    // Already in the strip (our own answer came first, or the other station moved): keep it current.
    if (servedHere) state.served[inStrip] = { ...state.served[inStrip], order };
    else state.served.splice(inStrip, 1);
    saveServed();
  }
  return false;
}

/** The order as it will be once `entry` is applied: the tapped station's lines (or all) still to make at the
 * target, and the order's status from those (as the server moves them). */
function predicted(order, entry) {
  const station = entry.body.station || null;
  const refunded = refundedOf(order);
  const left = (item) => item.quantity > (refunded.get(item.food.id) || 0);
  const moves = (item) => left(item) && (station === null || item.station === station);
  const items = order.items.map((item) => (moves(item) ? { ...item, kitchen_status: entry.target } : item));
  const counted = items.some(left) ? items.filter(left) : items;
  return { ...order, items, kitchen_status: statusOf(counted.map((item) => item.kitchen_status)) };
}

/** The server's order with this board's unanswered taps on top: what the cook expects to see. */
function withPending(order) {
  return pendingOf(order.id).reduce(predicted, order);
}

/** The server's latest state of one order (an event or our own answer). Returns true if it is new here. */
function learn(order) {
  state.known.set(order.id, order);
  state.notOpen.delete(order.id);
  return applyOrder(withPending(order));
}

/** Show an order again from what the server last said (a queued tap of it was dropped). */
function reshow(orderId) {
  const truth = state.known.get(orderId);
  if (truth && !state.notOpen.has(orderId)) applyOrder(withPending(truth));
  else state.tickets.delete(orderId);
}

function applySnapshot(orders) {
  const before = new Set(state.tickets.keys());
  const listed = new Set(orders.map((order) => order.id));
  for (const id of state.known.keys()) if (!listed.has(id)) state.notOpen.add(id);
  // After a reload nothing is known yet: a queued tap's order that the snapshot leaves out has left the board.
  for (const entry of state.queue) if (!listed.has(entry.orderId)) state.notOpen.add(entry.orderId);
  for (const order of orders) {
    state.known.set(order.id, order);
    state.notOpen.delete(order.id);
  }
  // Orders with unanswered taps that the snapshot leaves out (served here, a recall waiting) keep their prediction.
  const waiting = [...new Set(state.queue.map((entry) => entry.orderId))]
    .filter((id) => !listed.has(id) && state.known.has(id))
    .map((id) => state.known.get(id));
  state.tickets = new Map([...orders, ...waiting].map(withPending).filter(isOpenTicket).map((order) => [order.id, order]));
  const missed = [...state.tickets.keys()].filter((id) => !before.has(id));
  if (state.snapshots > 0 && missed.length) {
    for (const id of missed) state.fresh.add(id);
    sound.newTicket(); // tickets that arrived while we were disconnected
  }
  state.served = state.served.filter((s) => !state.tickets.has(s.order.id));
  saveServed();
  state.snapshots += 1;
}

// --- staff calls ------------------------------------------------------------------------------------

const calls = staffCalls($("#calls"), { onNew: () => sound.staffCall(), now });

function onMessage(msg) {
  if (msg.ts) state.clockOffset = new Date(msg.ts).getTime() - Date.now();
  switch (msg.type) {
    case "snapshot":
      calls.snapshot(msg.calls || []);
      applySnapshot(msg.orders);
      state.keptAt = null;
      state.sendFailed = false;
      renderSync();
      setTimeout(sendQueue); // after this render: taps kept while away go out now, checked against it
      break;
    case "order.created":
    case "order.paid":
      if (learn(msg.order)) sound.newTicket();
      break;
    case "order.updated":
      learn(msg.order);
      break;
    case "table.reset":
      for (const order of [...state.tickets.values()]) {
        if (order.table !== msg.table_id) continue;
        state.tickets.delete(order.id);
        state.notOpen.add(order.id); // archived: neither shown nor kept
      }
      state.served = state.served.filter((s) => s.order.table !== msg.table_id);
      saveServed();
      break;
    case "staff.called":
    case "staff.call_acked":
      calls.handle(msg);
      keep();
      return;
    default:
      return;
  }
  renderTickets();
  renderServed();
  keep();
}

// --- taps: shown at once, kept, sent in order ---------------------------------------------------------

function tapName(entry) {
  return `'${ACTION_LABEL[entry.action] || entry.action}'`;
}

function addNote(text, detail) {
  state.notes = [{ id: uuid(), text, detail }, ...state.notes].slice(0, NOTES_KEPT);
  renderNotes();
}

function renderNotes() {
  $("#sync-notes").replaceChildren(
    ...state.notes.map((note) =>
      h(
        "div",
        { class: "sync-note", role: "status", dataset: { noteId: note.id } },
        h("span", { class: "sync-note-text" }, note.text, note.detail ? h("small", {}, note.detail) : null),
        h(
          "button",
          {
            type: "button",
            class: "btn btn-sm",
            onclick: () => {
              state.notes = state.notes.filter((n) => n.id !== note.id);
              renderNotes();
            },
          },
          "확인",
        ),
      ),
    ),
  );
}

/** Offline, or taps waiting: the cook must know the screen is ahead of the server. */
function renderSync() {
  const box = $("#sync");
  const count = state.queue.length;
  const offline = !navigator.onLine || state.sendFailed || state.connection === "waiting" || state.connection === "denied";
  box.hidden = !offline && !count && !state.keptAt;
  box.dataset.state = offline ? "offline" : "sending";
  box.dataset.count = count;
  const what = offline ? "연결 끊김" : state.live ? "보내는 중" : "연결 중";
  const since = state.keptAt ? ` · ${clock(state.keptAt)} 기준 화면` : "";
  $("#sync-text").textContent = count
    ? `${what} · 보낼 탭 ${count}개${since}`
    : `${what} · 누른 탭은 저장했다가 연결되면 보내요${since}`;
}

function renderAll() {
  renderTickets();
  renderServed();
  renderSync();
}

function tap(orderId, action) {
  if (guarded(orderId)) return;
  const shown = state.tickets.get(orderId) || state.served.find((s) => s.order.id === orderId)?.order;
  if (!shown) return;
  const target = action === "recall" ? "cooking" : action;
  const from = partStatus(shown);
  const entry = {
    key: uuid(), // made once per tap: a resend after an unknown outcome is answered, never applied twice
    orderId,
    action,
    target,
    from, // what the cook saw: if the server says otherwise later, the tap no longer applies
    // from_status lets the server refuse it too, when this board had not heard of a move made elsewhere
    body: { kitchen_status: target, from_status: from, ...(STATION ? { station: STATION } : {}) },
    table: shown.table_name,
    number: shown.order_number,
    at: new Date().toISOString(),
  };
  state.lastTap.set(orderId, Date.now());
  setTimeout(renderAll, TAP_GUARD_MS + 20);
  state.queue.push(entry);
  saveQueue();
  applyOrder(predicted(shown, entry));
  renderAll();
  sendQueue();
}

/** The server's latest state is what this tap, already sent once, would have made: its answer may have been
 * lost on the way back. Only the server can tell, by the tap's key: it answers again if the tap was ours, and
 * refuses the no-op move if another screen made it. A start is never resent onto a served ticket (a recall). */
function perhapsApplied(entry) {
  if (!entry.sent) return false;
  if (state.notOpen.has(entry.orderId)) return entry.target === "served";
  const truth = state.known.get(entry.orderId);
  return Boolean(truth) && partStatus(truth) === entry.target;
}

/** A queued tap the server's latest state (a fresh snapshot, or events since) says no longer applies. */
function outdated(entry) {
  if (perhapsApplied(entry)) return false;
  const truth = state.known.get(entry.orderId);
  if (entry.action === "recall") return Boolean(truth) && !state.notOpen.has(entry.orderId) && partStatus(truth) !== "served";
  if (state.notOpen.has(entry.orderId)) return true; // served or cleared elsewhere: a "start" now would be a recall
  return Boolean(truth) && partStatus(truth) !== entry.from;
}

function removeEntry(entry) {
  state.queue = state.queue.filter((e) => e.key !== entry.key);
  saveQueue();
}

function drop(entry, text, detail) {
  removeEntry(entry);
  reshow(entry.orderId);
  addNote(text, detail);
}

function conflictNote(entry) {
  const name = tapName(entry);
  return `${entry.table} 주문의 ${name}${particle(ACTION_LABEL[entry.action] || "", "은", "는")} 다른 화면에서 이미 바뀌어 적용하지 않았어요`;
}

let sending = false;
let retryTimer = null;
let retryAttempt = 0;

function scheduleRetry() {
  clearTimeout(retryTimer);
  const exp = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** retryAttempt);
  retryAttempt += 1;
  retryTimer = setTimeout(sendQueue, Math.round(exp / 2 + (Math.random() * exp) / 2));
}

/** Send the queued taps one by one, oldest first, while the board is live; stop at a network fault. */
async function sendQueue() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (sending || !state.live) return; // a fresh snapshot will call again
  sending = true;
  try {
    while (state.queue.length && state.live) {
      const entry = state.queue[0];
      if (outdated(entry)) {
        drop(entry, conflictNote(entry), `주문번호 ${entry.number}`);
        renderAll();
        continue;
      }
      if (!entry.sent) {
        entry.sent = true; // kept before the request leaves: a reload must know it may have arrived
        saveQueue();
      }
      let order, replayed;
      try {
        ({ data: order, replayed } = await api(`/api/orders/${entry.orderId}/kitchen-status/`, {
          method: "PATCH",
          body: entry.body,
          idempotencyKey: entry.key,
          timeoutMs: SEND_TIMEOUT_MS,
          withReplayed: true,
        }));
      } catch (error) {
        if (error.status === 0 || error.status >= 500 || error.status === 429) {
          // Unknown outcome: kept with its key, so the resend is answered with the first answer.
          state.sendFailed = true;
          scheduleRetry();
          return;
        }
        if (error.code === "not_authenticated") {
          // Kept for after the login: the queue lives in localStorage.
          toast(error.detail, "error", 6000);
          toLogin(1500);
          return;
        }
        if (error.status === 409 && (error.code === "invalid_transition" || error.code === "not_paid")) {
          drop(entry, conflictNote(entry), `주문번호 ${entry.number}`);
        } else {
          const name = tapName(entry);
          drop(entry, `${entry.table} 주문의 ${name}${particle(ACTION_LABEL[entry.action] || "", "을", "를")} 보내지 못했어요`, error.detail);
        }
        renderAll();
        continue;
      }
      state.sendFailed = false;
      retryAttempt = 0;
      removeEntry(entry);
      // A replayed answer is the first one, given before whatever the board has heard since.
      if (replayed && state.known.has(entry.orderId)) reshow(entry.orderId);
      else learn(order);
      keep();
      renderAll();
    }
  } finally {
    sending = false;
    renderSync();
  }
}

function start() {
  const indicator = liveIndicator($("#live"));
  board.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    tap(button.dataset.id, button.dataset.action);
  });
  window.addEventListener("offline", renderSync);
  window.addEventListener("pagehide", keepNow);
  document.querySelector(".logout-form")?.addEventListener("submit", () => {
    keeping = false;
    clearTimeout(keepTimer);
  });
  window.addEventListener("online", () => {
    state.sendFailed = false;
    retryAttempt = 0;
    renderSync();
    sendQueue();
  });
  $("#sound-toggle").addEventListener("click", () => {
    const blocked = sound.enabled && (!sound.context || sound.context.state !== "running");
    if (!blocked) {
      sound.enabled = !sound.enabled;
      localStorage.setItem(SOUND_KEY, sound.enabled ? "on" : "off");
    }
    sound.unlock();
    if (sound.enabled) sound.newTicket();
    renderSoundToggle();
  });
  // Browsers allow audio only after a user gesture: the first touch anywhere unlocks it.
  document.addEventListener("pointerdown", () => sound.unlock(), { once: true });
  sound.unlock();
  renderSoundToggle();
  restoreKept();
  renderServed();
  renderSync();
  tick();
  setInterval(tick, 1000);
  window.addEventListener("scroll", renderMoreBelow, { passive: true });
  window.addEventListener("resize", renderMoreBelow);
  keepForOffline("/kitchen/sw.js", "/kitchen/");
  connectLive(STATION ? `/ws/kitchen/?station=${STATION}` : "/ws/kitchen/", {
    onMessage,
    onState: (connection, info) => {
      indicator(connection, info);
      state.connection = connection;
      state.live = connection === "open"; // the snapshot follows at once and sends what waits
      renderSync();
      if (connection === "denied") toLogin();
    },
  });
}

start();
