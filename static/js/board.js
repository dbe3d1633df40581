// /kitchen/[?station=kitchen|bar]: the wall screen. Open tickets from the /ws/kitchen/ snapshot plus
// events, oldest first. With a station, each ticket shows and moves only that station's lines; without,
// it is the expo view of whole tickets. Staff calls stay until someone acknowledges them.
import { $, api, clock, connectLive, duration, h, KITCHEN_LABEL, liveIndicator, toast } from "./common.js";

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

const state = {
  tickets: new Map(), // order id -> Order (completed, queued or cooking)
  served: loadServed(), // [{order, servedAt}] newest first
  calls: new Map(), // call id -> open StaffCall
  acking: new Set(), // call ids with an acknowledgement in flight
  busy: new Set(), // order ids with a request in flight
  fresh: new Set(), // order ids to animate once
  snapshots: 0,
  clockOffset: 0, // server time - local time, so a wall screen with a wrong clock still ages right
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

function now() {
  return Date.now() + state.clockOffset;
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

/** The lines this board prepares: its station's, or all of them on the expo view. */
function linesOf(order) {
  return STATION ? order.items.filter((item) => item.station === STATION) : order.items;
}

/** What this board sees of an order: its station's part, or the whole ticket. */
function partStatus(order) {
  return STATION ? statusOf(linesOf(order).map((item) => item.kitchen_status)) : order.kitchen_status;
}

function isOpenTicket(order) {
  return order.status === "completed" && linesOf(order).length > 0 && partStatus(order) !== "served";
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
  const others = order.items.filter((item) => item.station !== STATION);
  if (!others.length) return null;
  const status = statusOf(others.map((item) => item.kitchen_status));
  const other = others[0].station;
  const count = others.reduce((sum, item) => sum + item.quantity, 0);
  const label = (other === "bar" ? BAR_LABEL : KITCHEN_LABEL)[status];
  return h("p", { class: "ticket-other" }, `+ ${STATION_NAMES[other] || other} ${count}개 · ${label}`);
}

function ticketCard(order) {
  const age = ticketAge(order);
  const busy = state.busy.has(order.id);
  const part = partStatus(order);
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
      class: `ticket ${ageClass(age)}${state.fresh.has(order.id) ? " is-new" : ""}`,
      dataset: { orderId: order.id, kitchenStatus: part, paidAt: order.paid_at || order.order_date },
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
      h("span", { class: "ticket-state" }, PART_LABEL[part]),
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
            ),
            h(
              "button",
              { type: "button", class: "btn btn-recall btn-sm", dataset: { action: "recall", id: order.id }, disabled: state.busy.has(order.id) },
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
  for (const node of document.querySelectorAll(".call-banner [data-since]")) node.textContent = waited(node.dataset.since);
  $("#clock").textContent = new Date(now()).toLocaleTimeString("ko-KR", { hour: "2-digit", minute: "2-digit", hour12: false });
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

function applySnapshot(orders) {
  const before = new Set(state.tickets.keys());
  state.tickets = new Map(orders.filter(isOpenTicket).map((order) => [order.id, order]));
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

function waited(iso) {
  const minutes = Math.floor((now() - new Date(iso).getTime()) / 60_000);
  return minutes < 1 ? "방금" : `${minutes}분째`;
}

function applyCalls(calls) {
  const fresh = calls.some((call) => !state.calls.has(call.id));
  const first = state.snapshots === 0;
  state.calls = new Map(calls.map((call) => [call.id, call]));
  // Calls made while this screen was away ring once it is back; the first load rings for none.
  if (fresh && !first) sound.staffCall();
  renderCalls();
}

async function ackCall(id) {
  if (state.acking.has(id)) return;
  state.acking.add(id);
  renderCalls();
  try {
    await api(`/api/staff-calls/${id}/ack/`, { method: "POST" });
    state.calls.delete(id); // the staff.call_acked event clears it on every other screen
  } catch (error) {
    if (error.status === 404) state.calls.delete(id);
    else toast(error.detail, "error", 6000);
    if (error.code === "not_authenticated") setTimeout(() => location.assign(`/accounts/login/?next=${loginNext()}`), 1500);
  } finally {
    state.acking.delete(id);
    renderCalls();
  }
}

function renderCalls() {
  // Oldest first: the table that has waited longest is the first one to go to.
  const calls = [...state.calls.values()].sort((a, b) => (a.created_at === b.created_at ? a.id - b.id : a.created_at < b.created_at ? -1 : 1));
  $("#calls").replaceChildren(
    ...calls.map((call) =>
      h(
        "div",
        { class: "call-banner", role: "alert", dataset: { callId: call.id, tableId: call.table.id } },
        h("span", { class: "call-table" }, call.table.name),
        h("span", { class: "call-message" }, call.message || "직원 호출"),
        h("span", { class: "call-time" }, clock(call.created_at), " · ", h("span", { dataset: { since: call.created_at } }, waited(call.created_at))),
        h(
          "button",
          { type: "button", class: "btn", disabled: state.acking.has(call.id), onclick: () => ackCall(call.id) },
          "확인",
        ),
      ),
    ),
  );
}

function onMessage(msg) {
  if (msg.ts) state.clockOffset = new Date(msg.ts).getTime() - Date.now();
  switch (msg.type) {
    case "snapshot":
      applyCalls(msg.calls || []);
      applySnapshot(msg.orders);
      break;
    case "order.created":
    case "order.paid":
      if (applyOrder(msg.order)) sound.newTicket();
      break;
    case "order.updated":
      applyOrder(msg.order);
      break;
    case "table.reset":
      for (const order of [...state.tickets.values()]) if (order.table === msg.table_id) state.tickets.delete(order.id);
      state.served = state.served.filter((s) => s.order.table !== msg.table_id);
      saveServed();
      break;
    case "staff.called":
      state.calls.set(msg.call.id, msg.call);
      renderCalls();
      sound.staffCall();
      return;
    case "staff.call_acked":
      state.calls.delete(msg.call.id);
      renderCalls();
      return;
    default:
      return;
  }
  renderTickets();
  renderServed();
}

function loginNext() {
  return encodeURIComponent(location.pathname + location.search);
}

async function setKitchenStatus(orderId, kitchenStatus) {
  if (state.busy.has(orderId)) return;
  state.busy.add(orderId);
  renderTickets();
  renderServed();
  const body = STATION ? { kitchen_status: kitchenStatus, station: STATION } : { kitchen_status: kitchenStatus };
  try {
    const order = await api(`/api/orders/${orderId}/kitchen-status/`, { method: "PATCH", body });
    applyOrder(order);
  } catch (error) {
    toast(error.detail, "error", 6000);
    if (error.code === "not_authenticated") setTimeout(() => location.assign(`/accounts/login/?next=${loginNext()}`), 1500);
  } finally {
    state.busy.delete(orderId);
    renderTickets();
    renderServed();
  }
}

function start() {
  const indicator = liveIndicator($("#live"));
  board.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const target = button.dataset.action === "recall" ? "cooking" : button.dataset.action;
    setKitchenStatus(button.dataset.id, target);
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
  renderServed();
  tick();
  setInterval(tick, 1000);
  connectLive(STATION ? `/ws/kitchen/?station=${STATION}` : "/ws/kitchen/", {
    onMessage,
    onState: (connection, info) => {
      indicator(connection, info);
      if (connection === "denied") location.assign(`/accounts/login/?next=${loginNext()}`);
    },
  });
}

start();
