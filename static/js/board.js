// /kitchen/: the wall screen. Open tickets from the /ws/kitchen/ snapshot plus events, oldest first.
import { $, api, clock, connectLive, duration, h, KITCHEN_LABEL, liveIndicator, toast } from "./common.js";

const board = $("#board");
const WARN_MS = Number(board.dataset.warnMinutes || 10) * 60_000;
const LATE_MS = Number(board.dataset.lateMinutes || 20) * 60_000;
const SERVED_KEEP = 6;
const SERVED_KEY = "board:served";
const SOUND_KEY = "board:sound";

const state = {
  tickets: new Map(), // order id -> Order (completed, queued or cooking)
  served: loadServed(), // [{order, servedAt}] newest first
  calls: [], // [{id, table, message, at}]
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

function isOpenTicket(order) {
  return order.status === "completed" && (order.kitchen_status === "queued" || order.kitchen_status === "cooking");
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

function ticketCard(order) {
  const age = ticketAge(order);
  const busy = state.busy.has(order.id);
  const action =
    order.kitchen_status === "queued"
      ? h("button", { type: "button", class: "btn btn-start", dataset: { action: "cooking", id: order.id }, disabled: busy }, "조리시작")
      : h("button", { type: "button", class: "btn btn-serve", dataset: { action: "served", id: order.id }, disabled: busy }, "서빙완료");
  const refunded = order.refunds.length
    ? h("p", { class: "ticket-refund" }, `환불: ${order.refunds.map((r) => `${r.food.name} ${r.quantity}`).join(", ")}`)
    : null;
  return h(
    "article",
    {
      class: `ticket ${ageClass(age)}${state.fresh.has(order.id) ? " is-new" : ""}`,
      dataset: { orderId: order.id, kitchenStatus: order.kitchen_status, paidAt: order.paid_at || order.order_date },
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
      h("span", { class: "ticket-state" }, KITCHEN_LABEL[order.kitchen_status]),
      h("span", {}, `${clock(order.paid_at || order.order_date)} 주문${order.payer_name ? ` · ${order.payer_name}` : ""}`),
    ),
    h(
      "ul",
      { class: "ticket-items" },
      order.items.map((item) => h("li", {}, h("span", { class: "ticket-qty" }, item.quantity), h("span", {}, item.food.name))),
    ),
    refunded,
    h("div", { class: "ticket-actions" }, action),
  );
}

function renderTickets() {
  const tickets = sortedTickets();
  const box = $("#tickets");
  box.replaceChildren(
    ...(tickets.length ? tickets.map(ticketCard) : [h("div", { class: "board-empty" }, "조리할 주문이 없습니다")]),
  );
  state.fresh.clear();
  $("#count-queued").textContent = tickets.filter((o) => o.kitchen_status === "queued").length;
  $("#count-cooking").textContent = tickets.filter((o) => o.kitchen_status === "cooking").length;
  renderAllDay(tickets);
}

function renderAllDay(tickets) {
  const totals = new Map(); // food id -> {name, queued, cooking}
  for (const order of tickets) {
    for (const item of order.items) {
      const row = totals.get(item.food.id) || { name: item.food.name, queued: 0, cooking: 0 };
      row[order.kitchen_status] += item.quantity;
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
            h("span", {}, row.name, row.cooking && row.queued ? h("span", { class: "allday-split" }, `조리중 ${row.cooking}`) : null),
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
              h("div", { class: "served-items" }, order.items.map((i) => `${i.food.name} ${i.quantity}`).join(", ")),
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
  if (isOpenTicket(order)) {
    state.tickets.set(order.id, order);
    state.served = state.served.filter((s) => s.order.id !== order.id); // recalled
    saveServed();
    if (!known) state.fresh.add(order.id);
    return !known;
  }
  state.tickets.delete(order.id);
  if (order.status === "completed" && order.kitchen_status === "served") {
    if (known || !state.served.some((s) => s.order.id === order.id)) rememberServed(order);
  }
  return false;
}

function applySnapshot(orders) {
  const before = new Set(state.tickets.keys());
  state.tickets = new Map(orders.map((order) => [order.id, order]));
  const missed = orders.filter((order) => !before.has(order.id));
  if (state.snapshots > 0 && missed.length) {
    for (const order of missed) state.fresh.add(order.id);
    sound.newTicket(); // tickets that arrived while we were disconnected
  }
  state.served = state.served.filter((s) => !state.tickets.has(s.order.id));
  saveServed();
  state.snapshots += 1;
}

function showCall(table, message, ts) {
  const call = { id: `${table.id}-${ts}`, table, message, at: ts };
  state.calls = [call, ...state.calls.filter((c) => c.table.id !== table.id)].slice(0, 5);
  renderCalls();
  sound.staffCall();
}

function renderCalls() {
  $("#calls").replaceChildren(
    ...state.calls.map((call) =>
      h(
        "div",
        { class: "call-banner", role: "alert", dataset: { tableId: call.table.id } },
        h("span", { class: "call-table" }, call.table.name),
        h("span", { class: "call-message" }, `직원 호출${call.message ? ` · ${call.message}` : ""}`),
        h("span", { class: "call-time" }, clock(call.at)),
        h(
          "button",
          {
            type: "button",
            class: "btn",
            onclick: () => {
              state.calls = state.calls.filter((c) => c.id !== call.id);
              renderCalls();
            },
          },
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
      showCall(msg.table, msg.message, msg.ts);
      return;
    default:
      return;
  }
  renderTickets();
  renderServed();
}

async function setKitchenStatus(orderId, kitchenStatus) {
  if (state.busy.has(orderId)) return;
  state.busy.add(orderId);
  renderTickets();
  renderServed();
  try {
    const order = await api(`/api/orders/${orderId}/kitchen-status/`, { method: "PATCH", body: { kitchen_status: kitchenStatus } });
    applyOrder(order);
  } catch (error) {
    toast(error.detail, "error", 6000);
    if (error.code === "not_authenticated") setTimeout(() => location.assign(`/accounts/login/?next=/kitchen/`), 1500);
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
  connectLive("/ws/kitchen/", {
    onMessage,
    onState: (connection, info) => {
      indicator(connection, info);
      if (connection === "denied") location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
    },
  });
}

start();
