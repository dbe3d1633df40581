// /staff/tables/: the live floor from /ws/staff/. Each table's state (open or closed, total, open tickets,
// unpaid pre-orders, calls), open / close / reset, staff calls to acknowledge, payments that need a person,
// and the printable QR sheet (rendered by the server). Counts are recomputed from local state (tickets,
// pre-orders and calls by id) after every event, never counted up and down, so they cannot drift.
import { staffCalls } from "./calls.js";
import { $, api, clock, connectLive, duration, h, liveIndicator, toast, toLogin, won } from "./common.js";

const OUTCOMES = { unmatched: "매칭 안 됨", ambiguous: "후보 여러 건", needs_refund: "환불 필요" };
const page = $("#floor-page");
const OPENING_REQUIRED = page.dataset.openingRequired === "true";

const state = {
  tables: new Map(), // table id -> Table (name, is_open, total_spent)
  tickets: new Map(), // order id -> Order: paid or direct, not served, on a current tab
  pending: new Map(), // order id -> Order: pre-order awaiting payment
  payments: new Map(), // payment event id -> PaymentEvent needing attention
  net: new Map(), // order id -> {table, net}: completed orders whose money this page knows
  busy: new Set(), // "table:<id>" with a request in flight
  clockOffset: 0,
};

function now() {
  return Date.now() + state.clockOffset;
}

function byName(a, b) {
  return a.name.localeCompare(b.name, "ko", { numeric: true });
}

function openTicketsOf(tableId) {
  return [...state.tickets.values()].filter((order) => order.table === tableId);
}

function pendingOf(tableId) {
  return [...state.pending.values()].filter((order) => order.table === tableId);
}

function oldestAt(orders) {
  let oldest = null;
  for (const order of orders) {
    const at = order.paid_at || order.order_date;
    if (!oldest || at < oldest) oldest = at;
  }
  return oldest;
}

// --- applying the feed ------------------------------------------------------------------------------

function applySnapshot(msg) {
  state.tables = new Map(msg.tables.map((table) => [table.id, table]));
  state.tickets = new Map((msg.orders || []).map((order) => [order.id, order]));
  state.pending = new Map(msg.pending_pre_orders.map((order) => [order.id, order]));
  state.payments = new Map(msg.payments.filter((p) => p.outcome in OUTCOMES).map((p) => [p.id, p]));
  state.net = new Map([...state.tickets.values()].map((o) => [o.id, { table: o.table, net: o.total_amount - o.refunded_amount }]));
}

/** Keep a table's total true: add what an order's net changed by since this page last saw it. */
function applyMoney(type, order) {
  const table = state.tables.get(order.table);
  const net = order.status === "completed" ? order.total_amount - order.refunded_amount : 0;
  const seen = state.net.get(order.id);
  let delta = 0;
  if (seen) delta = net - seen.net;
  else if (order.status === "completed" && (type === "order.created" || type === "order.paid")) delta = net;
  else if (order.status === "completed" && order.refunded_amount > 0) refreshTotalsSoon(); // paid before this page looked
  if (table && delta) table.total_spent = (table.total_spent || 0) + delta;
  if (order.status === "completed") state.net.set(order.id, { table: order.table, net });
  else state.net.delete(order.id);
}

function applyOrder(type, order) {
  if (!state.tables.has(order.table)) refreshTotalsSoon(); // a table made after the snapshot
  applyMoney(type, order);
  if (order.status === "pre_order") state.pending.set(order.id, order);
  else state.pending.delete(order.id);
  // Refunded whole: nothing left to make, not a ticket (as the server's open tickets).
  const refundedWhole = order.total_amount > 0 && order.refunded_amount >= order.total_amount;
  const ticket = order.status === "completed" && order.kitchen_status !== "served" && !refundedWhole;
  // An update of a ticket this page does not hold is of one a reset took off the floor (a late refund).
  if (ticket && (type !== "order.updated" || state.tickets.has(order.id))) state.tickets.set(order.id, order);
  else state.tickets.delete(order.id);
}

function applyTableReset(tableId) {
  // The tab is archived: its tickets leave the floor and its total starts again (its unpaid
  // pre-orders stay listed here until paid or expired: a paid one comes back as a ticket).
  for (const order of openTicketsOf(tableId)) state.tickets.delete(order.id);
  for (const [id, seen] of state.net) if (seen.table === tableId) state.net.delete(id);
  const table = state.tables.get(tableId);
  if (table) table.total_spent = 0;
}

function applyTable(table) {
  state.tables.set(table.id, { ...(state.tables.get(table.id) || {}), ...table });
}

let totalsTimer = null;
function refreshTotalsSoon() {
  clearTimeout(totalsTimer);
  totalsTimer = setTimeout(async () => {
    try {
      for (const table of await api("/api/tables/")) applyTable(table);
      render();
    } catch {
      // the next snapshot brings them
    }
  }, 300);
}

let paymentsTimer = null;
/** A deposit matched on another screen says nothing to this one: look again when a pre-order gets paid. */
function refreshPaymentsSoon() {
  if (!state.payments.size) return;
  clearTimeout(paymentsTimer);
  paymentsTimer = setTimeout(async () => {
    try {
      const open = await api("/api/payments/?open=true");
      state.payments = new Map(open.map((p) => [p.id, p]));
      renderAttention();
    } catch {
      // kept as they are until the next snapshot
    }
  }, 500);
}

function onMessage(msg) {
  if (msg.ts) state.clockOffset = new Date(msg.ts).getTime() - Date.now();
  switch (msg.type) {
    case "snapshot":
      applySnapshot(msg);
      calls.snapshot(msg.calls || []);
      break;
    case "order.created":
    case "order.paid":
    case "order.updated":
      applyOrder(msg.type, msg.order);
      if (msg.type === "order.paid") refreshPaymentsSoon();
      break;
    case "table.reset":
      applyTableReset(msg.table_id);
      break;
    case "table.opened":
    case "table.closed":
      applyTable(msg.table);
      break;
    case "staff.called":
    case "staff.call_acked":
      calls.handle(msg); // renders the calls, then the floor's counts (onChange)
      return;
    case "payment.resolved":
      state.payments.delete(msg.payment.id);
      break;
    case "payment.received":
      if (msg.payment.outcome in OUTCOMES) {
        state.payments.set(msg.payment.id, msg.payment);
        toast(`입금 확인 필요: ${msg.payment.transaction_name || "-"} ${won(msg.payment.amount)} (${OUTCOMES[msg.payment.outcome]})`, "warn", 8000);
      }
      break;
    default:
      return;
  }
  render();
}

// --- rendering: the floor ---------------------------------------------------------------------------

function tableCard(table) {
  const tickets = openTicketsOf(table.id);
  const pending = pendingOf(table.id);
  const tableCalls = [...calls.calls.values()].filter((call) => call.table.id === table.id);
  const oldest = oldestAt(tickets);
  const busy = state.busy.has(`table:${table.id}`);
  const classes = ["floor-card", table.is_open ? "is-open" : "is-closed"];
  if (tableCalls.length) classes.push("has-calls");
  if (tickets.length) classes.push("has-tickets");
  return h(
    "article",
    {
      class: classes.join(" "),
      dataset: {
        tableId: table.id,
        tableName: table.name,
        open: String(table.is_open),
        openTickets: tickets.length,
        pendingPreOrders: pending.length,
        openCalls: tableCalls.length,
      },
    },
    h(
      "header",
      { class: "floor-head" },
      h("span", { class: "floor-name" }, table.name),
      h("span", { class: "floor-state" }, table.is_open ? "영업 중" : "닫힘"),
    ),
    h("div", { class: "floor-total", "data-role": "total" }, won(table.total_spent)),
    h(
      "ul",
      { class: "floor-facts" },
      h(
        "li",
        { class: tickets.length ? "fact-on" : "", dataset: { fact: "tickets" } },
        h("span", {}, "서빙 전"),
        h(
          "strong",
          {},
          `${tickets.length}건`,
          oldest ? h("span", { class: "fact-age", dataset: { since: oldest } }, ` · ${duration(now() - new Date(oldest).getTime())}`) : null,
        ),
      ),
      h(
        "li",
        { class: pending.length ? "fact-on fact-warn" : "", dataset: { fact: "pre_orders" } },
        h("span", {}, "입금 대기"),
        h("strong", {}, `${pending.length}건`),
      ),
      h(
        "li",
        { class: tableCalls.length ? "fact-on fact-call" : "", dataset: { fact: "calls" } },
        h("span", {}, "호출"),
        h("strong", {}, `${tableCalls.length}건`),
      ),
    ),
    h(
      "div",
      { class: "floor-actions" },
      table.is_open
        ? h("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "close" }, disabled: busy }, "닫기")
        : h("button", { type: "button", class: "btn btn-primary btn-sm", dataset: { action: "open" }, disabled: busy }, "열기"),
      h("button", { type: "button", class: "btn btn-danger btn-sm", dataset: { action: "reset" }, disabled: busy }, "초기화"),
    ),
  );
}

function renderFloor() {
  const tables = [...state.tables.values()].sort(byName);
  $("#floor").replaceChildren(...(tables.length ? tables.map(tableCard) : [h("p", { class: "empty" }, "테이블이 없습니다.")]));
  const open = tables.filter((table) => table.is_open).length;
  const sales = tables.reduce((sum, table) => sum + (table.total_spent || 0), 0);
  $("#floor-summary").textContent = [
    `영업 중 ${open}/${tables.length}`,
    `서빙 전 ${state.tickets.size}건`,
    `입금 대기 ${state.pending.size}건`,
    `호출 ${calls.calls.size}건`,
    `합계 ${won(sales)}`,
  ].join(" · ");
}

// --- rendering: calls -------------------------------------------------------------------------------

const calls = staffCalls($("#call-list"), {
  item: { tag: "li", class: "call-row" },
  buttonClass: "btn btn-secondary btn-sm",
  shown: Infinity, // the floor's own list: every call
  now,
  onChange: () => {
    $("#floor-calls").hidden = !calls.calls.size;
    $("#calls-count").textContent = `${calls.calls.size}건`;
    renderFloor(); // each table's open calls
  },
});

// --- rendering: payments and pre-orders -------------------------------------------------------------

function orderLabel(order) {
  return `${order.table_name} · ${order.payer_name} · ${won(order.total_amount)} · ${order.order_number}`;
}

function newestFirst(list, key) {
  return [...list].sort((a, b) => (a[key] === b[key] ? b.id - a.id : a[key] < b[key] ? 1 : -1));
}

/** Dealt with another way (the money given back, the order confirmed by hand): off every staff screen's list. */
function resolveButton(event) {
  const refund = event.outcome === "needs_refund";
  const label = refund ? "돌려줬어요" : "처리 완료";
  const question = refund
    ? `${event.transaction_name || "-"} ${won(event.amount)}\n입금자에게 돌려줬나요? 목록에서 지웁니다.`
    : `${event.transaction_name || "-"} ${event.amount === null ? "" : won(event.amount)}\n주문에 연결하지 않고 처리 완료로 표시할까요? 목록에서 지웁니다.`;
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-secondary btn-sm",
      onclick: async (click) => {
        if (!window.confirm(question)) return;
        const button = click.currentTarget;
        button.disabled = true;
        try {
          await api(`/api/payments/${event.id}/resolve/`, { method: "POST", body: {} }); // a second one keeps the first
          state.payments.delete(event.id);
          render();
          toast(`${event.transaction_name || "입금"} 알림을 처리 완료로 표시했습니다.`, "success");
        } catch (error) {
          failed(error);
          button.disabled = false;
        }
      },
    },
    label,
  );
}

function paymentRow(event) {
  let action;
  if (event.outcome === "needs_refund") {
    action = h(
      "div",
      { class: "match-form" },
      h("span", { class: "muted small" }, "주문이 만료되어 재고가 없습니다. 입금자에게 돌려주세요."),
      resolveButton(event),
    );
  } else {
    const pending = [...state.pending.values()];
    const candidates = pending.sort((a, b) => (a.total_amount === event.amount ? 0 : 1) - (b.total_amount === event.amount ? 0 : 1));
    const select = h(
      "select",
      { name: "order_id", "aria-label": "연결할 주문", required: true },
      h("option", { value: "" }, candidates.length ? "연결할 선결제 주문 선택" : "입금 대기 중인 주문 없음"),
      candidates.map((order) =>
        h("option", { value: order.id }, `${order.total_amount === event.amount ? "[금액 일치] " : ""}${orderLabel(order)}`),
      ),
    );
    action = h(
      "form",
      {
        class: "match-form",
        onsubmit: async (submit) => {
          submit.preventDefault();
          if (!select.value) return toast("연결할 주문을 골라 주세요.", "warn");
          const button = submit.target.querySelector("button");
          button.disabled = true;
          try {
            const order = await api(`/api/payments/${event.id}/match/`, { method: "POST", body: { order_id: select.value } });
            state.payments.delete(event.id);
            applyOrder("order.paid", order);
            render();
            toast(`${order.table_name} ${order.payer_name} 주문을 결제 완료로 처리했습니다.`, "success");
          } catch (error) {
            failed(error);
            button.disabled = false;
          }
        },
      },
      select,
      h("button", { type: "submit", class: "btn btn-primary btn-sm", disabled: !candidates.length }, "연결"),
      resolveButton(event),
    );
  }
  return h(
    "tr",
    { dataset: { paymentId: event.id, outcome: event.outcome } },
    h("td", {}, clock(event.received_at)),
    h("td", {}, h("strong", {}, event.transaction_name || "-")),
    h("td", { class: "amount" }, event.amount === null ? "-" : won(event.amount)),
    h("td", {}, h("span", { class: `outcome outcome-${event.outcome}` }, OUTCOMES[event.outcome] || event.outcome)),
    h("td", {}, action),
  );
}

function remaining(order) {
  if (!order.expires_at) return "";
  const left = new Date(order.expires_at).getTime() - now();
  return left > 0 ? `${duration(left)} 남음` : "만료 처리 중";
}

function pendingRow(order) {
  return h(
    "tr",
    { dataset: { orderId: order.id } },
    h("td", {}, h("strong", {}, order.table_name)),
    h("td", {}, order.payer_name),
    h("td", { class: "amount" }, won(order.total_amount)),
    h("td", { class: "small" }, order.items.map((item) => `${item.food.name} ${item.quantity}`).join(", ")),
    h("td", { class: "mono small" }, order.order_number),
    h("td", { class: "small" }, clock(order.order_date), " · ", h("span", { dataset: { expires: order.id } }, remaining(order))),
    h(
      "td",
      { class: "cell-actions" },
      h(
        "button",
        {
          type: "button",
          class: "btn btn-ok btn-sm",
          dataset: { action: "confirm" },
          onclick: async (click) => {
            if (!window.confirm(`${order.table_name} ${order.payer_name} ${won(order.total_amount)}\n입금(또는 현금)을 확인했나요? 결제 완료로 처리합니다.`)) return;
            click.target.disabled = true;
            try {
              const paid = await api(`/api/orders/${order.id}/confirm-payment/`, { method: "POST" });
              applyOrder("order.paid", paid);
              render();
              toast(`${order.table_name} ${order.payer_name} 주문을 결제 완료로 처리했습니다.`, "success");
            } catch (error) {
              failed(error);
              click.target.disabled = false;
            }
          },
        },
        "입금 확인",
      ),
    ),
  );
}

function dataTable(headers, rows) {
  return h(
    "table",
    { class: "data-table" },
    h("thead", {}, h("tr", {}, headers.map((label) => h("th", {}, label)))),
    h("tbody", {}, rows),
  );
}

function renderAttention() {
  // a re-render must not drop an order staff have already picked
  const picked = new Map(
    [...document.querySelectorAll("#payments tr[data-payment-id]")].map((tr) => [tr.dataset.paymentId, tr.querySelector("select")?.value]),
  );
  const payments = newestFirst(state.payments.values(), "received_at");
  const pending = [...state.pending.values()].sort((a, b) => (a.order_date < b.order_date ? 1 : -1));
  $("#payments").replaceChildren(
    payments.length
      ? dataTable(["받은 시각", "입금자명", "금액", "상태", "처리"], payments.map(paymentRow))
      : h("p", { class: "muted" }, "확인할 입금 알림이 없습니다."),
  );
  for (const [id, value] of picked) {
    const select = document.querySelector(`#payments tr[data-payment-id="${id}"] select`);
    if (select && value && [...select.options].some((option) => option.value === value)) select.value = value;
  }
  $("#pending-orders").replaceChildren(
    pending.length
      ? dataTable(["테이블", "입금자명", "금액", "메뉴", "주문번호", "주문 · 남은 시간", ""], pending.map(pendingRow))
      : h("p", { class: "muted" }, "입금을 기다리는 주문이 없습니다."),
  );
  const count = payments.length + pending.length;
  const badge = $("#attention-count");
  badge.hidden = !count;
  badge.textContent = `${count}건`;
  $("#attention").classList.toggle("is-clear", !count);
}

function render() {
  renderFloor();
  renderAttention();
}

function tick() {
  for (const node of document.querySelectorAll("#floor [data-since]")) {
    node.textContent = ` · ${duration(now() - new Date(node.dataset.since).getTime())}`;
  }
  for (const node of document.querySelectorAll("#pending-orders [data-expires]")) {
    const order = state.pending.get(node.dataset.expires);
    if (order) node.textContent = remaining(order);
  }
}

// --- actions ----------------------------------------------------------------------------------------

function failed(error) {
  toast(error.detail, "error", 7000);
  if (error.code === "not_authenticated") toLogin(1500);
}

function unservedLine(count) {
  return `서빙하지 않은 주문 ${count}건이 있습니다. 계속하면 주방 화면에서도 사라집니다.\n\n`;
}

// An unpaid pre-order leaves the tab too, but it can still be paid; a paid one goes to the kitchen board, not
// to the next guests' tab (payments.services._complete), so staff hear of it before they go ahead.
function pendingLine(count) {
  return count ? `입금을 기다리는 선결제 주문 ${count}건이 있습니다. 나중에 입금되면 주방 화면에 다시 나타납니다 (다음 손님의 주문 내역에는 나오지 않아요).\n\n` : "";
}

/** Reset or close: say how many tickets are still unserved before asking, then go ahead with force. */
async function archive(table, action) {
  const closing = action === "close";
  const question = closing
    ? `${table.name} 테이블을 닫을까요?\n주문 내역이 정리됩니다 (기록에는 남습니다).\n${
        OPENING_REQUIRED ? "다시 열 때까지 주문을 받지 않습니다." : "지금 설정(TABLE_OPENING=off)에서는 닫힌 테이블도 주문을 받습니다."
      }`
    : `${table.name} 테이블을 초기화할까요?\n지금까지의 주문이 손님 화면에서 사라지고 기록에만 남습니다.`;
  const unserved = openTicketsOf(table.id).length;
  const pending = pendingLine(pendingOf(table.id).length);
  if (!window.confirm((unserved ? unservedLine(unserved) : "") + pending + question)) return;
  const path = closing ? `/api/tables/${table.id}/close/` : `/api/tables/${table.id}/orders/reset/`;
  const method = closing ? "POST" : "DELETE";
  const send = (force) => api(force ? `${path}?force=true` : path, { method });
  let result;
  try {
    result = await send(unserved > 0);
  } catch (error) {
    if (error.code !== "open_tickets") throw error;
    // A ticket came in after this page counted: ask again with the server's count.
    if (!window.confirm(unservedLine(error.body.count) + pending + question)) return;
    result = await send(true);
  }
  if (closing) {
    applyTable(result);
    applyTableReset(table.id);
    toast(`${table.name} 테이블을 닫았습니다.`, "success");
  } else {
    applyTableReset(table.id);
    toast(`${table.name} 테이블을 초기화했습니다 (주문 ${result.archived}건 정리).`, "success");
  }
}

async function openTable(table) {
  applyTable(await api(`/api/tables/${table.id}/open/`, { method: "POST" }));
  toast(`${table.name} 테이블을 열었습니다. 손님 화면에 메뉴가 나타납니다.`, "success");
}

async function onFloorClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const table = state.tables.get(button.closest(".floor-card").dataset.tableId);
  if (!table || state.busy.has(`table:${table.id}`)) return;
  const key = `table:${table.id}`;
  state.busy.add(key);
  renderFloor();
  try {
    if (button.dataset.action === "open") await openTable(table);
    else await archive(table, button.dataset.action);
  } catch (error) {
    failed(error);
  } finally {
    state.busy.delete(key);
    render();
  }
}

function start() {
  const indicator = liveIndicator($("#live"));
  $("#floor").addEventListener("click", onFloorClick);
  $("#print").addEventListener("click", () => window.print());
  setInterval(tick, 1000);
  connectLive("/ws/staff/", {
    onMessage,
    onState: (connection, info) => {
      indicator(connection, info);
      if (connection === "denied") toLogin();
    },
  });
}

start();
