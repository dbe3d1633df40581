// /staff/tables/: table reset, totals, and the payments that need a person (unmatched, ambiguous,
// needs_refund deposits; pending pre-orders to confirm by hand).
import { $, api, clock, connectLive, duration, h, liveIndicator, toast, won } from "./common.js";

const OUTCOMES = { unmatched: "매칭 안 됨", ambiguous: "후보 여러 건", needs_refund: "환불 필요" };
const REFRESH_EVERY_MS = 20_000;

let pending = []; // pending pre-orders (status pre_order), newest first
let payments = [];
let loading = null;

async function loadAttention() {
  if (loading) return loading;
  loading = (async () => {
    try {
      const [history, ...lists] = await Promise.all([
        api("/api/orders/history/?limit=200"),
        ...Object.keys(OUTCOMES).map((outcome) => api(`/api/payments/?outcome=${outcome}`)),
      ]);
      pending = history.orders.filter((order) => order.status === "pre_order");
      payments = lists.flat().sort((a, b) => (a.received_at < b.received_at ? 1 : -1));
      renderAttention();
    } catch (error) {
      toast(error.detail, "error");
    } finally {
      loading = null;
    }
  })();
  return loading;
}

async function loadTotals() {
  try {
    for (const table of await api("/api/tables/")) {
      const spent = document.querySelector(`.qr-card[data-table-id="${table.id}"] [data-role=spent]`);
      if (spent) spent.textContent = won(table.total_spent);
    }
  } catch {
    // totals are a convenience here
  }
}

function orderLabel(order) {
  return `${order.table_name} · ${order.payer_name} · ${won(order.total_amount)} · ${order.order_number}`;
}

function paymentRow(event) {
  let action;
  if (event.outcome === "needs_refund") {
    action = h("span", { class: "muted small" }, "주문이 만료되어 재고가 없습니다. 입금자에게 돌려주세요.");
  } else {
    const candidates = [...pending].sort((a, b) => (a.total_amount === event.amount ? 0 : 1) - (b.total_amount === event.amount ? 0 : 1));
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
            toast(`${order.table_name} ${order.payer_name} 주문을 결제 완료로 처리했습니다.`, "success");
            await loadAttention();
          } catch (error) {
            toast(error.detail, "error", 7000);
            button.disabled = false;
          }
        },
      },
      select,
      h("button", { type: "submit", class: "btn btn-primary btn-sm", disabled: !candidates.length }, "연결"),
    );
  }
  return h(
    "tr",
    { dataset: { paymentId: event.id } },
    h("td", {}, clock(event.received_at)),
    h("td", {}, h("strong", {}, event.transaction_name || "-")),
    h("td", { class: "amount" }, event.amount === null ? "-" : won(event.amount)),
    h("td", {}, h("span", { class: `outcome outcome-${event.outcome}` }, OUTCOMES[event.outcome] || event.outcome)),
    h("td", {}, action),
  );
}

function pendingRow(order) {
  const left = order.expires_at ? new Date(order.expires_at).getTime() - Date.now() : null;
  return h(
    "tr",
    { dataset: { orderId: order.id } },
    h("td", {}, h("strong", {}, order.table_name)),
    h("td", {}, order.payer_name),
    h("td", { class: "amount" }, won(order.total_amount)),
    h("td", { class: "small" }, order.items.map((item) => `${item.food.name} ${item.quantity}`).join(", ")),
    h("td", { class: "mono small" }, order.order_number),
    h("td", { class: "small" }, `${clock(order.order_date)}${left !== null ? ` · ${left > 0 ? `${duration(left)} 남음` : "만료 처리 중"}` : ""}`),
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
              await api(`/api/orders/${order.id}/confirm-payment/`, { method: "POST" });
              toast(`${order.table_name} ${order.payer_name} 주문을 결제 완료로 처리했습니다.`, "success");
              await loadAttention();
            } catch (error) {
              toast(error.detail, "error", 7000);
              click.target.disabled = false;
            }
          },
        },
        "입금 확인",
      ),
    ),
  );
}

function table(headers, rows) {
  return h(
    "table",
    { class: "data-table" },
    h("thead", {}, h("tr", {}, headers.map((label) => h("th", {}, label)))),
    h("tbody", {}, rows),
  );
}

function renderAttention() {
  // a refresh must not drop an order staff have already picked
  const picked = new Map(
    [...document.querySelectorAll("#payments tr[data-payment-id]")].map((tr) => [tr.dataset.paymentId, tr.querySelector("select")?.value]),
  );
  $("#payments").replaceChildren(
    payments.length
      ? table(["받은 시각", "입금자명", "금액", "상태", "처리"], payments.map(paymentRow))
      : h("p", { class: "muted" }, "확인할 입금 알림이 없습니다."),
  );
  for (const [id, value] of picked) {
    const select = document.querySelector(`#payments tr[data-payment-id="${id}"] select`);
    if (select && value && [...select.options].some((option) => option.value === value)) select.value = value;
  }
  $("#pending-orders").replaceChildren(
    pending.length
      ? table(["테이블", "입금자명", "금액", "메뉴", "주문번호", "주문 시각", ""], pending.map(pendingRow))
      : h("p", { class: "muted" }, "입금을 기다리는 주문이 없습니다."),
  );
  const count = payments.length + pending.length;
  const badge = $("#attention-count");
  badge.hidden = !count;
  badge.textContent = `${count}건`;
  $("#attention").classList.toggle("is-clear", !count);
}

async function resetTable(card) {
  const name = card.dataset.tableName;
  if (!window.confirm(`${name} 테이블을 초기화할까요?\n지금까지의 주문이 손님 화면에서 사라지고 기록에만 남습니다.`)) return;
  try {
    const result = await api(`/api/tables/${card.dataset.tableId}/orders/reset/`, { method: "DELETE" });
    toast(`${name} 테이블을 초기화했습니다 (주문 ${result.archived}건 정리).`, "success");
    loadTotals();
  } catch (error) {
    toast(error.detail, "error");
  }
}

function start() {
  const indicator = liveIndicator($("#live"));
  for (const node of document.querySelectorAll("[data-role=spent]")) node.textContent = won(node.dataset.amount);
  document.querySelector(".qr-grid").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action=reset]");
    if (button) resetTable(button.closest(".qr-card"));
  });
  $("#print").addEventListener("click", () => window.print());
  $("#attention-refresh").addEventListener("click", () => {
    loadAttention();
    loadTotals();
  });
  loadAttention();
  let refreshSoon = null;
  connectLive("/ws/kitchen/", {
    onMessage: (msg) => {
      if (!["snapshot", "order.created", "order.paid", "order.updated", "table.reset"].includes(msg.type)) return;
      clearTimeout(refreshSoon);
      refreshSoon = setTimeout(() => {
        loadAttention();
        loadTotals();
      }, 300);
    },
    onState: (connection, info) => {
      indicator(connection, info);
      if (connection === "denied") location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
    },
  });
  // New pre-orders and deposits are not pushed to staff sockets: look again now and then.
  setInterval(() => {
    if (document.visibilityState === "visible") loadAttention();
  }, REFRESH_EVERY_MS);
}

start();
