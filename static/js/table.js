// /t/{table_id}/: the customer's tab. Menu with live sold-out, the table's shared cart, direct and pay-first
// orders, live payment and kitchen status from /ws/tables/{table_id}/.
import {
  $,
  ApiError,
  api,
  clock,
  connectLive,
  duration,
  fill,
  h,
  keepForOffline,
  KITCHEN_LABEL,
  liveIndicator,
  openModal,
  particle,
  toast,
  uuid,
  won,
} from "./common.js";

const app = $("#app");
const tableId = app.dataset.tableId;
const PAY_KEY = `pay:${tableId}`;

// With TABLE_OPENING=required a closed table shows a wait screen; otherwise is_open never blocks.
let openingRequired = app.dataset.openingRequired === "true";

const state = {
  table: { id: tableId, name: app.dataset.tableName, total_spent: 0, is_open: app.dataset.tableOpen !== "false" },
  foods: new Map(), // id -> Food
  orders: new Map(), // id -> Order
  cart: new Map(), // food id -> quantity, as shown: the server's cart with this phone's unsent taps on top
  refused: new Set(), // food ids the last order was refused for (sold out, short, gone)
  tab: "menu",
  snapshotSeen: false,
  sheet: "cart", // cart | payer | paying
  payingOrderId: null,
  payStatus: {}, // order id -> status, for orders the tab no longer lists
  payAskFailed: new Set(), // order ids whose payment status could not be read: the sheet offers to try again
  putBack: new Set(), // cancelled pre-orders already put back into the cart from this phone
  keptAt: null, // shown from what was kept at this time (an offline reload), until the server answers
  busy: false,
  resending: false, // an order's answer was lost: it is being sent again (sendOrder)
  error: "",
};
// redirect_url and message of this phone's pre-orders (the order itself carries neither)
const payLinks = load(PAY_KEY, {});
for (const [id, link] of Object.entries(payLinks)) {
  if (!link.expires_at || Date.parse(link.expires_at) < Date.now() - 86_400_000) delete payLinks[id];
}

function load(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // private mode: the cart simply does not survive a reload
  }
}

try {
  localStorage.removeItem(`cart:${tableId}`); // the cart used to live on each phone; now it is the table's
} catch {
  // nothing kept then
}

// --- what the tab last knew, for a reload without a connection ---------------------------------------
// The page itself comes from its service worker's copy (/t/sw.js); the menu, the tab and the cart from here.

const KEPT_KEY = `tab:kept:v1:${tableId}`;
const KEEP_EVERY_MS = 500;
const KEPT_MAX_AGE_MS = 12 * 3_600_000; // a copy from an earlier night is not what the pub serves now
const KEPT_NOTE_ONLINE_AFTER_MS = 2_000; // online, the server answers within moments: no note flashes by

let keepTimer = null;
function keep() {
  if (keepTimer || state.keptAt) return; // the copy on screen is not new knowledge
  keepTimer = setTimeout(keepNow, KEEP_EVERY_MS);
}

/** A change waiting to be kept is kept now (the page is going away). */
function keepNow() {
  if (!keepTimer) return;
  clearTimeout(keepTimer);
  keepTimer = null;
  if (state.keptAt || !state.foods.size) return;
  const { table, foods, orders } = state;
  save(KEPT_KEY, { at: new Date().toISOString(), table, foods: [...foods.values()], orders: [...orders.values()], cart: cart.server });
}

/** Show what was kept until the server answers. A copy that cannot be shown (a release changed its shape) or
 * that is from an earlier night is forgotten: the page then waits for the server as before. */
function restoreKept() {
  const kept = load(KEPT_KEY, null);
  const usable = kept && Array.isArray(kept.foods) && Array.isArray(kept.orders) && Date.now() - Date.parse(kept.at) < KEPT_MAX_AGE_MS;
  try {
    if (!usable) throw new Error("no usable copy");
    setFoods(kept.foods);
    state.table = { ...state.table, ...kept.table };
    state.orders = new Map(kept.orders.map((order) => [order.id, order]));
    adoptCart(kept.cart);
    state.keptAt = kept.at;
    renderAll();
    setTimeout(renderKept, navigator.onLine ? KEPT_NOTE_ONLINE_AFTER_MS : 0);
  } catch {
    localStorage.removeItem(KEPT_KEY);
    Object.assign(state, { foods: new Map(), orders: new Map(), keptAt: null });
  }
}

/** The server answered (the first paint over HTTP or a snapshot): what is on screen is its state now. */
function freshFromServer() {
  state.keptAt = null;
  renderKept();
}

function renderKept() {
  const note = $("#kept-note");
  note.hidden = !state.keptAt;
  if (state.keptAt) note.textContent = `인터넷이 끊겨 ${clock(state.keptAt)}에 본 화면을 보여 드려요. 연결되면 바로 새로 고쳐요.`;
}

// --- state changes ----------------------------------------------------------------------------------

function setFoods(foods) {
  state.foods = new Map(foods.map((food) => [food.id, food]));
  forgiveRestocked();
}

/** A food the last order was refused for that staff restocked since (enough for its cart line) is no longer
 * marked, and once none is left the refusal's message goes too. */
function forgiveRestocked() {
  if (!state.refused.size) return;
  for (const id of state.refused) {
    const food = state.foods.get(id);
    const wanted = state.cart.get(id) || 0;
    if (food && !food.sold_out && (food.stock === null || wanted <= food.stock)) state.refused.delete(id);
  }
  if (!state.refused.size) state.error = "";
}

function upsertOrder(order) {
  state.orders.set(order.id, order);
}

// --- the shared cart (CONTRACT.md section 10) ---------------------------------------------------------
// The table has one cart on the server; every phone shows it and writes it whole. A tap changes the screen
// at once and is kept as a delta; the deltas go out together (debounced, one request at a time, with the
// latest version known). When another phone got there first (409 cart_changed), the deltas are applied
// again on top of its cart, so two people adding at once both count.

const CART_DEBOUNCE_MS = 250;
const CART_RETRY_MAX_MS = 10_000;

const cart = {
  server: { items: [], version: 0, updated_at: null }, // the latest Cart the server confirmed or sent
  seen: null, // a newer Cart from the socket that came while a write was in flight (applied after it)
  pending: new Map(), // food id -> delta, tapped but not sent yet
  inflight: null, // Map food id -> delta of the write in flight
  // A write whose answer never came ({deltas, items, version, key}): it goes again as it was, with its
  // Idempotency-Key, before any newer tap, so the server says whether it landed (200) or not.
  unsent: null,
  timer: null,
  attempt: 0,
  waiters: [], // settle() promises, resolved when nothing is left to send
};

function sameItems(a, b) {
  const quantities = new Map(a.map((item) => [item.food_id, item.quantity]));
  return a.length === b.length && b.every((item) => quantities.get(item.food_id) === item.quantity);
}

function addDeltas(into, from) {
  for (const [id, delta] of from) into.set(id, (into.get(id) || 0) + delta);
  return into;
}

/** The cart as this phone shows it: the server's, then the write in flight or unanswered, then unsent taps. */
function recomputeCart() {
  const quantities = new Map(cart.server.items.map((item) => [item.food_id, item.quantity]));
  for (const deltas of [cart.inflight || cart.unsent?.deltas, cart.pending]) {
    if (!deltas) continue;
    for (const [id, delta] of deltas) {
      const next = Math.max(0, Math.min(99, (quantities.get(id) || 0) + delta));
      if (next) quantities.set(id, next);
      else quantities.delete(id);
    }
  }
  state.cart = quantities;
}

function cartItems() {
  return [...state.cart.entries()].map(([food_id, quantity]) => ({ food_id, quantity }));
}

function cartSettled() {
  return !cart.inflight && !cart.unsent && !cart.pending.size && !cart.timer;
}

/** A Cart from the server (snapshot, cart.updated, an answer): newer versions win. */
function adoptCart(next, { fromSocket = false, live = false } = {}) {
  if (!next || typeof next.version !== "number") return;
  if ((cart.inflight || cart.unsent) && fromSocket) {
    // It may hold this phone's own write, whose answer has not come: applying it now would count the write
    // twice. The write's answer says, and then this cart is taken if it is newer.
    if (!cart.seen || next.version > cart.seen.version) cart.seen = next;
    return;
  }
  if (next.version < cart.server.version) return;
  const changedElsewhere = live && next.version > cart.server.version;
  cart.server = { items: next.items || [], version: next.version, updated_at: next.updated_at };
  if (!cart.server.items.length) state.refused.clear();
  recomputeCart();
  renderFoods();
  renderCart();
  if (changedElsewhere) bumpCartBar();
}

function bumpCartBar() {
  const bar = $("#cart-bar");
  bar.classList.remove("is-bumped");
  void bar.offsetWidth; // restart the animation
  bar.classList.add("is-bumped");
}

function scheduleCartWrite(delay = CART_DEBOUNCE_MS) {
  clearTimeout(cart.timer);
  cart.timer = setTimeout(() => {
    cart.timer = null;
    writeCart();
  }, delay);
}

/** Drop deltas that change nothing any more (a minus on a line another phone already removed). */
function prunePending() {
  const base = new Map(cart.server.items.map((item) => [item.food_id, item.quantity]));
  for (const [id, delta] of cart.pending) {
    const before = base.get(id) || 0;
    if (delta === 0 || Math.max(0, Math.min(99, before + delta)) === before) cart.pending.delete(id);
  }
}

async function writeCart() {
  if (cart.inflight || (!cart.unsent && !cart.pending.size)) return settleIfDone();
  let write = cart.unsent;
  cart.unsent = null;
  if (write) {
    cart.inflight = write.deltas;
  } else {
    cart.inflight = cart.pending; // the taps are the write's now
    cart.pending = new Map();
    recomputeCart();
    write = { deltas: cart.inflight, items: cartItems(), version: cart.server.version, key: uuid() };
  }
  let answer = null;
  let failure = null;
  try {
    answer = await api(`/api/tables/${tableId}/cart/`, {
      method: "PUT",
      body: { items: write.items, version: write.version },
      idempotencyKey: write.key,
      timeoutMs: 10_000,
    });
  } catch (error) {
    failure = error instanceof ApiError ? error : new ApiError(0, {});
  }
  cart.inflight = null;
  const seen = cart.seen;
  cart.seen = null;
  if (answer) {
    // Applied now, or earlier by a send whose answer was lost (the server found the key): in the cart either way.
    cart.attempt = 0;
    adoptCart(answer);
    if (seen) adoptCart(seen);
  } else if (failure.status === 0 || failure.status >= 500 || failure.status === 429) {
    // Nothing says whether it landed: it goes again as it was; newer taps wait behind it. A cart the socket
    // brought meanwhile may hold it already: kept until the resend's answer says.
    cart.unsent = write;
    cart.seen = seen;
    if (cart.attempt === 1) toast("장바구니를 저장하지 못했어요. 다시 시도하는 중이에요.", "warn");
    cart.attempt += 1;
    recomputeCart();
    renderFoods();
    renderCart();
    scheduleCartWrite(Math.min(CART_RETRY_MAX_MS, 500 * 2 ** cart.attempt));
    return;
  } else if (failure.code === "cart_changed") {
    // Another phone changed it first (this write did not land, or the key would have said so): take its cart
    // and put this phone's taps back on top.
    cart.attempt = 0;
    cart.pending = addDeltas(new Map(write.deltas), cart.pending);
    adoptCart(failure.body.cart);
    if (seen) adoptCart(seen);
    prunePending();
    recomputeCart();
    renderFoods();
    renderCart();
  } else {
    // Refused (a food that is gone, too many lines): the taps are dropped, the server's cart stays.
    cart.attempt = 0;
    if (seen) adoptCart(seen);
    recomputeCart();
    renderFoods();
    renderCart();
    toast(failure.detail, "error", 6000);
    if (failure.code === "food_not_found") refreshMenu();
  }
  if (cart.pending.size && !cart.timer) scheduleCartWrite(0);
  settleIfDone();
}

function settleIfDone() {
  if (!cartSettled()) return;
  const waiters = cart.waiters;
  cart.waiters = [];
  for (const resolve of waiters) resolve();
}

/** Wait until every tap is on the server, so an order carries the cart's version as shown. */
function settleCart({ timeoutMs = 8000 } = {}) {
  if (cart.timer) {
    clearTimeout(cart.timer);
    cart.timer = null;
    writeCart();
  }
  if (cartSettled()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    cart.waiters.push(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Every line of the cart, also one whose food is sold out or not on the menu any more. */
function cartLines() {
  return [...state.cart.entries()].map(([id, quantity]) => {
    const food = state.foods.get(id) || null;
    let problem = null;
    if (!food) problem = "missing";
    else if (food.sold_out) problem = "sold_out";
    else if (food.stock !== null && quantity > food.stock) problem = "short";
    return { id, food, quantity, problem, refused: state.refused.has(id) };
  });
}

function cartTotal() {
  return cartLines().reduce((sum, line) => sum + (line.food ? line.food.price * line.quantity : 0), 0);
}

function cartCount() {
  return cartLines().reduce((sum, line) => sum + line.quantity, 0);
}

/** How many more of a food the cart may take: none of a sold-out or unknown one, else up to what is left
 * and 99 a line. */
function roomFor(foodId) {
  const food = state.foods.get(foodId);
  if (!food || food.sold_out) return 0;
  const current = state.cart.get(foodId) || 0;
  return Math.max(0, Math.min(99 - current, food.stock === null ? Infinity : food.stock - current));
}

function changeCart(foodId, delta) {
  const food = state.foods.get(foodId);
  const current = state.cart.get(foodId) || 0;
  if (delta > 0) {
    if (!food) return;
    if (delta > roomFor(foodId)) {
      // Past a line's 99 says nothing; sold out or short of stock says so.
      if (food.sold_out || current + delta <= 99) {
        const topic = `${food.name}${particle(food.name, "은", "는")}`;
        toast(food.sold_out ? `${topic} 품절이에요.` : `${topic} ${food.stock}개 남았어요.`, "warn");
      }
      return;
    }
  }
  if (delta < 0 && current === 0) return;
  cart.pending.set(foodId, (cart.pending.get(foodId) || 0) + delta);
  state.refused.delete(foodId);
  recomputeCart();
  renderFoods();
  renderCart();
  scheduleCartWrite();
}

function sortedOrders() {
  return [...state.orders.values()].sort((a, b) => (a.order_date < b.order_date ? 1 : -1));
}

/** CONTRACT.md section 3's total, split: pre-orders already paid by transfer, and direct orders paid at the
 * counter later (what the table still owes). Completed orders of the current session, refunds taken off. */
function spentSplit() {
  const split = { prepaid: 0, later: 0 };
  for (const order of state.orders.values()) {
    if (order.status !== "completed") continue;
    split[order.payer_name ? "prepaid" : "later"] += order.total_amount - order.refunded_amount;
  }
  return split;
}

// --- rendering: menu --------------------------------------------------------------------------------

function foodCard(food) {
  const quantity = state.cart.get(food.id) || 0;
  const soldOut = food.sold_out;
  const badges = [];
  if (soldOut) badges.push(h("span", { class: "badge badge-soldout" }, "품절"));
  else if (food.stock !== null) {
    badges.push(h("span", { class: `badge ${food.stock <= 5 ? "badge-low" : "badge-stock"}` }, `${food.stock}개 남음`));
  }
  const atStock = food.stock !== null && quantity >= food.stock;
  const action = soldOut && quantity
    ? h(
        "div",
        { class: "stepper stepper-soldout", role: "group", "aria-label": `${food.name} 수량 (품절)` },
        h("button", { type: "button", "aria-label": "빼기", onclick: () => changeCart(food.id, -1) }, "−"),
        h("output", { class: "stepper-value" }, quantity),
        h("button", { type: "button", "aria-label": "더하기", disabled: true }, "+"),
      )
    : soldOut
    ? h("button", { type: "button", class: "btn-add", disabled: true, "aria-label": `${food.name} 품절` }, "품절")
    : quantity
      ? h(
          "div",
          { class: "stepper", role: "group", "aria-label": `${food.name} 수량` },
          h("button", { type: "button", "aria-label": "빼기", onclick: () => changeCart(food.id, -1) }, "−"),
          h("output", { class: "stepper-value" }, quantity),
          h("button", { type: "button", "aria-label": "더하기", "aria-disabled": atStock ? "true" : null, onclick: () => changeCart(food.id, 1) }, "+"),
        )
      : h(
          "button",
          { type: "button", class: "btn-add", "aria-label": `${food.name} 담기`, onclick: () => changeCart(food.id, 1) },
          "담기",
        );
  return h(
    "article",
    {
      class: `food${soldOut ? " sold-out" : ""}${quantity ? " in-cart" : ""}`,
      dataset: { foodId: food.id },
      "aria-disabled": soldOut ? "true" : null,
    },
    h(
      "div",
      { class: "food-main" },
      h("h3", { class: "food-name" }, food.name),
      food.description ? h("p", { class: "food-desc" }, food.description) : null,
      h("div", { class: "food-meta" }, h("span", { class: "food-price" }, won(food.price)), badges),
    ),
    h("div", { class: "food-action" }, action),
  );
}

function renderFoods() {
  keep();
  for (const category of ["menu", "drinks"]) {
    const list = $(`#food-list-${category}`);
    const foods = [...state.foods.values()].filter((food) => food.category === category);
    list.replaceChildren(
      ...(foods.length ? foods.map(foodCard) : [h("p", { class: "empty" }, "준비된 메뉴가 없어요.")]),
    );
  }
}

// --- rendering: cart --------------------------------------------------------------------------------

function renderCart() {
  keep();
  const count = cartCount();
  const bar = $("#cart-bar");
  bar.hidden = count === 0 || state.tab === "orders";
  $("#cart-count").textContent = count;
  $("#cart-total").textContent = won(cartTotal());
  document.body.classList.toggle("has-cart", !bar.hidden);
  if (!$("#cart-sheet").open) return;
  if (state.sheet === "cart" || (state.sheet === "payer" && !count)) renderSheet();
  else if (state.sheet === "payer") {
    // keep the form (and what the customer is typing); only the money changes
    $("#sheet-total").textContent = won(cartTotal());
    if (!state.busy) $("#preorder-submit").textContent = `${won(cartTotal())} 선결제 주문하기`;
  }
}

function renderSheet() {
  const body = $("#cart-sheet-body");
  const title = $("#cart-sheet-title");
  if (state.sheet === "paying") {
    title.textContent = "결제";
    body.replaceChildren(payingView());
    return;
  }
  const lines = cartLines();
  if (!lines.length) {
    title.textContent = "장바구니";
    // Emptied under an error: by the order itself (its answer was lost), or by another phone's order.
    const note = unanswered ? "장바구니가 비었어요. 보낸 주문은 주문 현황에서 확인해 주세요." : state.error;
    body.replaceChildren(
      state.error
        ? h("p", { class: "form-error", role: "alert" }, note)
        : h("p", { class: "empty" }, "장바구니가 비었어요. 메뉴에서 담아 주세요."),
    );
    return;
  }
  const error = state.error ? h("p", { class: "form-error", role: "alert" }, state.error) : null;
  const list = h(
    "ul",
    { class: "cart-lines" },
    lines.map((line) => {
      const { id, food, quantity, problem, refused } = line;
      const name = food ? food.name : "메뉴에 없는 항목";
      const note =
        problem === "missing"
          ? "지금은 주문할 수 없어요"
          : problem === "sold_out"
            ? "품절 · 빼고 주문해 주세요"
            : problem === "short"
              ? `${food.stock}개만 남았어요`
              : refused
                ? "주문할 수 없었어요"
                : null;
      return h(
        "li",
        {
          class: `cart-line${problem ? ` is-unavailable is-${problem}` : ""}${refused ? " is-refused" : ""}`,
          dataset: { foodId: id, problem: problem || null },
        },
        h(
          "div",
          { class: "cart-line-name" },
          h("strong", {}, name, problem === "sold_out" || problem === "missing" ? h("span", { class: "badge badge-soldout" }, problem === "sold_out" ? "품절" : "없음") : null),
          h("span", {}, food ? won(food.price) : "-"),
          note ? h("em", { class: "cart-line-note" }, note) : null,
        ),
        h(
          "div",
          { class: "stepper stepper-sm" },
          h("button", { type: "button", "aria-label": "빼기", onclick: () => changeCart(id, -1) }, "−"),
          h("output", { class: "stepper-value" }, quantity),
          h("button", { type: "button", "aria-label": "더하기", disabled: problem === "sold_out" || problem === "missing", onclick: () => changeCart(id, 1) }, "+"),
        ),
        h("div", { class: "cart-line-total" }, food ? won(food.price * quantity) : ""),
      );
    }),
  );
  const total = h("div", { class: "cart-sum" }, h("span", {}, "합계"), h("strong", { id: "sheet-total" }, won(cartTotal())));
  if (state.sheet === "payer") {
    title.textContent = "선결제 주문";
    const typed = $("#payer-name");
    const input = h("input", {
      id: "payer-name",
      name: "payer_name",
      autocomplete: "name",
      maxlength: "20",
      required: true,
      placeholder: "예: 홍길동",
      value: typed ? typed.value : load("payer-name", ""),
      oninput: (event) => save("payer-name", event.target.value), // kept if the sheet is closed midway
    });
    const form = h(
      "form",
      {
        class: "payer-form",
        onsubmit: (event) => {
          event.preventDefault();
          placePreOrder(input.value.normalize("NFC").trim()); // NFC, as the server keeps it
        },
      },
      total,
      h(
        "label",
        { class: "field" },
        h("span", { class: "field-label" }, "입금자명"),
        input,
        h("span", { class: "field-help" }, "토스에서 보내는 사람 이름과 같아야 입금이 자동으로 확인돼요. 은행에 등록된 이름 그대로, 이모지 없이 적어 주세요."),
      ),
      error,
      h(
        "button",
        { type: "submit", class: "btn btn-primary btn-block btn-lg", id: "preorder-submit", disabled: state.busy },
        state.busy ? busyLabel("주문 만드는 중…") : `${won(cartTotal())} 선결제 주문하기`,
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-ghost btn-block",
          onclick: () => {
            state.sheet = "cart";
            state.error = "";
            renderSheet();
          },
        },
        "장바구니로 돌아가기",
      ),
    );
    body.replaceChildren(form);
    if (!typed) setTimeout(() => input.focus(), 50);
    return;
  }
  title.textContent = "장바구니";
  fill(
    body,
    h("p", { class: "cart-shared-hint" }, "이 테이블의 휴대폰이 함께 담는 장바구니예요. 바뀌면 바로 보여요."),
    list,
    total,
    error,
    h(
      "div",
      { class: "order-options" },
      h(
        "button",
        {
          type: "button",
          class: "btn btn-primary btn-lg btn-stack",
          id: "preorder-start",
          disabled: state.busy,
          onclick: () => {
            state.sheet = "payer";
            state.error = "";
            renderSheet();
          },
        },
        h("span", {}, "선결제 주문"),
        h("small", {}, "토스로 먼저 송금"),
      ),
      h(
        "button",
        { type: "button", class: "btn btn-secondary btn-lg btn-stack", id: "direct-order", disabled: state.busy, onclick: placeDirect },
        h("span", {}, state.busy ? busyLabel("주문 중…") : "바로 주문"),
        h("small", {}, "계산은 나중에"),
      ),
    ),
  );
}

const payStatusAskedAt = new Map(); // order id -> when it was last asked (ms)
const payStatusAsking = new Set(); // order ids with a question in flight
const PAY_STATUS_POLL_MS = 5_000;

/** Ask the API what became of an order and how to pay it: the tab leaves cancelled orders out, and a
 * pre-order placed from another phone of the table has no pay link on this one. Once, unless the last
 * answer is older than `olderThanMs`. */
async function askPayStatus(id, { olderThanMs = Infinity } = {}) {
  const asked = payStatusAskedAt.get(id);
  if (payStatusAsking.has(id) || (asked !== undefined && Date.now() - asked < olderThanMs)) return;
  payStatusAskedAt.set(id, Date.now()); // kept on a failure too: the page never asks in a loop
  payStatusAsking.add(id);
  try {
    const result = await api(`/api/orders/${id}/payment-status/`, { timeoutMs: PAY_STATUS_POLL_MS });
    let changed = state.payStatus[id] !== result.order_status || state.payAskFailed.has(id);
    state.payStatus[id] = result.order_status;
    state.payAskFailed.delete(id);
    if (result.redirect_url && !payLinks[id]?.redirect_url) {
      const { redirect_url, bank_name, bank_account_no, total_amount, payer_name, expires_at } = result;
      payLinks[id] = { ...payLinks[id], redirect_url, bank_name, bank_account_no, total_amount, payer_name, expires_at };
      changed = true;
    }
    if (changed && $("#cart-sheet").open && state.sheet === "paying" && state.payingOrderId === id) renderSheet();
  } catch {
    const changed = !state.payAskFailed.has(id);
    state.payAskFailed.add(id);
    if (changed && $("#cart-sheet").open && state.sheet === "paying" && state.payingOrderId === id) renderSheet();
  } finally {
    payStatusAsking.delete(id);
  }
}

function payingView() {
  const id = state.payingOrderId;
  const link = payLinks[id] || {};
  const order = state.orders.get(id);
  if ((!order && state.snapshotSeen) || !link.redirect_url) askPayStatus(id);
  const status = order?.status || state.payStatus[id] || "pre_order";
  const amount = order?.total_amount ?? link.total_amount;
  const payer = order?.payer_name || link.payer_name;
  const expires = order?.expires_at || link.expires_at;
  if (status === "completed") {
    return h(
      "div",
      { class: "pay-status pay-done", dataset: { status: "paid" } },
      h("div", { class: "pay-icon", "aria-hidden": "true" }, "✓"),
      h("h3", {}, "결제 완료"),
      h("p", {}, `${won(amount)} 입금이 확인됐어요. 주방에 주문이 전달되었습니다.`),
      h("button", { type: "button", class: "btn btn-primary btn-block btn-lg", onclick: () => closeSheet("orders") }, "주문 현황 보기"),
    );
  }
  if (status === "cancelled") {
    return h(
      "div",
      { class: "pay-status pay-cancelled", dataset: { status: "cancelled" } },
      h("div", { class: "pay-icon", "aria-hidden": "true" }, "!"),
      h("h3", {}, "주문이 취소되었어요"),
      h("p", {}, "입금 시간이 지나 주문이 취소되었습니다. 이미 송금하셨다면 직원에게 말씀해 주세요."),
      order ? putBackButton(order, "btn btn-primary btn-block btn-lg") : null,
      h("button", { type: "button", class: "btn btn-secondary btn-block", onclick: () => closeSheet() }, "닫기"),
    );
  }
  return h(
    "div",
    { class: "pay-status pay-pending", dataset: { status: "pending" } },
    h("div", { class: "spinner", "aria-hidden": "true" }),
    h("h3", {}, "입금 확인 중"),
    h(
      "p",
      {},
      "토스로 송금해 주세요. 보내는 사람 이름이 ",
      h("strong", {}, payer || "입금자명"),
      `${particle(payer || "입금자명", "과", "와")} 같으면 자동으로 확인돼요.`,
    ),
    h(
      "dl",
      { class: "pay-facts" },
      h("dt", {}, "금액"),
      h("dd", { class: "pay-amount" }, won(amount)),
      h("dt", {}, "입금자명"),
      h("dd", {}, payer || "-"),
      h("dt", {}, "주문번호"),
      h("dd", { class: "mono" }, order?.order_number || link.order_number || "-"),
      // The account in words too: a guest without the Toss app transfers by hand.
      link.bank_name || link.bank_account_no ? h("dt", {}, "입금 계좌") : null,
      link.bank_account_no
        ? h(
            "dd",
            { class: "pay-account" },
            h("span", { id: "bank-account" }, `${link.bank_name || ""} ${link.bank_account_no}`.trim()),
            " ",
            h("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => copyAccount(link.bank_account_no) }, "복사"),
          )
        : link.bank_name
          ? h("dd", { class: "pay-account" }, h("span", { id: "bank-account" }, link.bank_name), " (계좌번호는 직원에게 물어봐 주세요)")
          : null,
      expires ? h("dt", {}, "남은 시간") : null,
      expires ? h("dd", { dataset: { expires } }, remaining(expires)) : null,
    ),
    link.redirect_url
      ? h("a", { class: "btn btn-toss btn-block btn-lg", href: link.redirect_url, id: "toss-link" }, `토스로 ${won(amount)} 송금하기`)
      : state.payAskFailed.has(id)
        ? h(
            "p",
            { class: "muted" },
            "송금 안내를 불러오지 못했어요. ",
            h("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => askPayStatus(id, { olderThanMs: 0 }) }, "다시 불러오기"),
          )
        : h("p", { class: "muted" }, "송금 안내를 불러오는 중…"),
    h("p", { class: "muted small" }, "송금 후 이 창을 닫아도 괜찮아요. 확인되면 주문 현황에 바로 표시됩니다."),
  );
}

/** A cancelled pre-order's lines back in the shared cart, once: its money never came, but the guests still
 * want it. Each line as far as the menu allows now (sold out: left out; counted: what is left). */
function putBackButton(order, className) {
  const done = state.putBack.has(order.id);
  const putBack = () => {
    if (state.putBack.has(order.id)) return;
    state.putBack.add(order.id);
    const missed = [];
    for (const item of order.items) {
      const room = Math.min(item.quantity, roomFor(item.food.id));
      if (room > 0) changeCart(item.food.id, room);
      if (room < item.quantity) missed.push(item.food.name);
    }
    if (missed.length) toast(`${missed.join(", ")}${particle(missed.at(-1), "은", "는")} 품절이거나 남은 수량이 모자라 다 담지 못했어요.`, "warn", 7000);
    renderOrders();
    openSheet("cart");
  };
  return h("button", { type: "button", class: className, onclick: putBack, disabled: done }, done ? "다시 담았어요" : "같은 메뉴 다시 담기");
}

async function copyAccount(text) {
  // The Clipboard API needs a secure page; on the pub's plain-http LAN address select the text instead.
  try {
    await navigator.clipboard.writeText(text);
    toast("계좌번호를 복사했어요.");
  } catch {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("bank-account"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    toast("계좌번호를 길게 눌러 복사해 주세요.");
  }
}

function remaining(iso) {
  const left = new Date(iso).getTime() - Date.now();
  return left > 0 ? duration(left) : "곧 만료";
}

// --- rendering: orders ------------------------------------------------------------------------------

const STEPS = ["queued", "cooking", "served"];

function orderCard(order) {
  const pending = order.status === "pre_order";
  const cancelled = order.status === "cancelled";
  // A ticket of the kitchen and the bar is served line by line: the guest sees what has come already.
  const partly = order.status === "completed" && order.kitchen_status !== "served" && order.items.some((i) => i.kitchen_status === "served");
  const label = pending ? "입금 확인 중" : cancelled ? "취소됨" : partly ? "일부 나왔어요" : KITCHEN_LABEL[order.kitchen_status];
  const statusKey = pending ? "pending" : cancelled ? "cancelled" : order.kitchen_status;
  const stepIndex = STEPS.indexOf(order.kitchen_status);
  const refunds = order.refunds.length
    ? h(
        "ul",
        { class: "refund-lines" },
        order.refunds.map((refund) =>
          h(
            "li",
            {},
            `환불 · ${refund.food.name} ${refund.quantity}개`,
            refund.reason ? ` (${refund.reason})` : "",
            h("span", {}, `−${won(refund.amount)}`),
          ),
        ),
      )
    : null;
  return h(
    "article",
    { class: `order-card status-${statusKey}`, dataset: { orderId: order.id, status: order.status, kitchenStatus: order.kitchen_status } },
    h(
      "header",
      { class: "order-card-head" },
      h("div", {}, h("div", { class: "order-no mono" }, order.order_number), h("div", { class: "order-time" }, clock(order.order_date))),
      h("span", { class: `status-pill pill-${statusKey}`, "data-role": "order-status" }, label),
    ),
    order.status === "completed"
      ? h(
          "ol",
          { class: "steps", "aria-label": "조리 단계" },
          STEPS.map((step, index) => h("li", { class: index <= stepIndex ? "done" : "" }, KITCHEN_LABEL[step])),
        )
      : null,
    h(
      "ul",
      { class: "order-lines" },
      order.items.map((item) =>
        h(
          "li",
          { dataset: { kitchenStatus: item.kitchen_status } },
          h("span", {}, `${item.food.name} × ${item.quantity}`, partly && item.kitchen_status === "served" ? h("span", { class: "line-served" }, "✓ 나왔어요") : null),
          h("span", {}, won(item.total_price)),
        ),
      ),
    ),
    refunds,
    h(
      "footer",
      { class: "order-card-foot" },
      pending
        ? h(
            "button",
            { type: "button", class: "btn btn-toss btn-sm", onclick: () => openPaying(order.id) },
            "결제 화면 열기",
          )
        : cancelled
          ? putBackButton(order, "btn btn-secondary btn-sm")
          : h("span", { class: "muted small" }, order.payer_name ? `입금자 ${order.payer_name}` : "바로 주문"),
      h("strong", {}, won(order.total_amount - order.refunded_amount)),
    ),
  );
}

function renderOrders() {
  keep();
  const orders = sortedOrders();
  const list = $("#order-list");
  list.replaceChildren(...(orders.length ? orders.map(orderCard) : [h("p", { class: "empty" }, "아직 주문이 없어요.")]));
  const { prepaid, later } = spentSplit();
  $("#total-spent").textContent = won(prepaid + later);
  const split = $("#total-split");
  if (split) {
    split.hidden = !later; // all paid by transfer: nothing to say
    split.textContent = prepaid ? `선결제 완료 ${won(prepaid)} · 나중에 계산 ${won(later)}` : `나중에 계산할 금액 ${won(later)}`;
  }
  const active = orders.filter((order) => order.status === "completed" && order.kitchen_status !== "served").length;
  $("#orders-summary").textContent = `주문 ${orders.filter((o) => o.status !== "cancelled").length}건${active ? ` · 준비 중 ${active}건` : ""}`;
  const count = $("#orders-count");
  count.hidden = !active;
  count.textContent = active;
  renderPayBanner();
  if ($("#cart-sheet").open && state.sheet === "paying") renderSheet();
}

// Unpaid pre-orders shown above the menu, newest first; more than this many leave the menu room: the rest
// are counted, and listed on the orders tab.
const PAY_BANNER_ROWS = 2;

function renderPayBanner() {
  const banner = $("#pay-banner");
  const pending = sortedOrders().filter((order) => order.status === "pre_order");
  const more = pending.length - PAY_BANNER_ROWS;
  banner.hidden = !pending.length;
  banner.replaceChildren(
    ...pending.slice(0, PAY_BANNER_ROWS).map((order) =>
      h(
        "div",
        { class: "pay-banner-row", dataset: { orderId: order.id } },
        h("span", { class: "spinner spinner-sm", "aria-hidden": "true" }),
        h("span", { class: "pay-banner-text clamp-2" }, h("strong", {}, "입금 확인 중"), ` ${won(order.total_amount)} · ${order.payer_name}`),
        h("button", { type: "button", class: "btn btn-toss btn-sm", onclick: () => openPaying(order.id) }, "결제하기"),
      ),
    ),
    more > 0
      ? h(
          "div",
          { class: "pay-banner-row pay-banner-more" },
          h("span", { class: "pay-banner-text" }, `입금 확인 중인 주문 ${more}건 더`),
          h("button", { type: "button", class: "btn btn-secondary btn-sm", onclick: () => switchTab("orders") }, "주문 현황"),
        )
      : null,
  );
}

function isClosed() {
  return openingRequired && state.table.is_open === false;
}

/** The wait screen or the menu, from the table's latest state; switched in place, never by a reload. */
function renderOpenState() {
  const closed = isClosed();
  app.classList.toggle("is-closed", closed);
  $("#wait-screen").hidden = !closed;
  if (closed && $("#cart-sheet").open) $("#cart-sheet").close();
}

function renderAll() {
  renderOpenState();
  renderFoods();
  renderCart();
  renderOrders();
}

// --- tabs and sheets --------------------------------------------------------------------------------

function switchTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tab")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.dataset.panel !== tab;
  renderCart();
  window.scrollTo({ top: 0 });
}

function openSheet(view) {
  state.sheet = view;
  state.error = "";
  renderSheet();
  openModal($("#cart-sheet"));
}

function openPaying(orderId) {
  state.payingOrderId = orderId;
  openSheet("paying");
}

function closeSheet(tab) {
  $("#cart-sheet").close();
  if (tab) switchTab(tab);
}

// --- orders -----------------------------------------------------------------------------------------

/** Every line of the shared cart: the server decides about sold-out or missing foods and says which. */
function orderLines() {
  return cartLines().map(({ id, quantity }) => ({ food_id: id, quantity }));
}

async function refreshMenu() {
  try {
    setFoods(await api("/api/foods/"));
    renderFoods();
    renderCart();
  } catch {
    // the socket's next snapshot brings the menu anyway
  }
}

// An order sent over the festival Wi-Fi may be placed while its answer is lost. It goes again with the same
// Idempotency-Key, by itself a few times and then on the guest's next tap: the server places it once.
const ORDER_TIMEOUT_MS = 10_000;
const ORDER_RETRY_MS = [1_000, 3_000];
const UNANSWERED_MATCH_MS = 120_000;
let unanswered = null; // {text, key, body}: the order whose answer never came

function busyLabel(label) {
  return state.resending ? "연결이 불안정해 다시 보내는 중…" : label;
}

// Answers that say nothing of whether the order was placed (the Wi-Fi, a proxy, a passing fault): the key
// is kept for the next try. Any other answer placed it (2xx) or placed nothing (4xx): the next tap is new.
const outcomeUnknown = (status) => status === 0 || status === 408 || status === 429 || status >= 500;
const retryAtOnce = (status) => status === 0 || status === 502 || status === 503 || status === 504;

/** `send(attempt)`, and again after ORDER_RETRY_MS while its answer was lost on the way (the request keeps
 * its Idempotency-Key, so the server applies it once); at once when `known()` says the outcome came otherwise. */
async function withResends(send, { onResend = () => {}, known = () => false } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(attempt);
    } catch (error) {
      if (known()) continue;
      if (!retryAtOnce(error.status) || attempt >= ORDER_RETRY_MS.length) throw error;
      onResend();
      await new Promise((resolve) => setTimeout(resolve, ORDER_RETRY_MS[attempt]));
    }
  }
}

/** POST the order; `fromOrder(order)` makes its answer of the Order the socket announced, when the socket
 * told of it (answeredBySocket) before any answer came. */
async function sendOrder(path, body, fromOrder) {
  const text = `${path} ${JSON.stringify(body)}`;
  if (unanswered?.text !== text) unanswered = { text, key: uuid(), body, placed: null, sentAt: 0 };
  unanswered.sentAt = Date.now();
  const { key } = unanswered;
  try {
    return await withResends(
      async (attempt) => {
        if (attempt && unanswered?.placed) {
          const placed = unanswered.placed;
          unanswered = null;
          return fromOrder(placed);
        }
        try {
          const result = await api(path, { method: "POST", body, idempotencyKey: key, timeoutMs: ORDER_TIMEOUT_MS });
          unanswered = null;
          return result;
        } catch (error) {
          if (!unanswered?.placed && !outcomeUnknown(error.status)) unanswered = null;
          error.orderUnanswered = unanswered !== null;
          throw error;
        }
      },
      {
        known: () => Boolean(unanswered?.placed), // the socket told: the next turn answers with it
        onResend: () => {
          state.resending = true;
          renderSheet();
        },
      },
    );
  } finally {
    state.resending = false;
  }
}

/** A new order the socket announces that is this phone's unanswered one (its lines and payer): it was placed,
 * so the guest is told so, as the lost answer would have. */
function answeredBySocket(order) {
  // Only an order announced soon after: much later, an identical order is another phone's, not this one's.
  if (!unanswered || Date.now() - unanswered.sentAt > UNANSWERED_MATCH_MS) return;
  const lines = order.items.map((item) => ({ food_id: item.food.id, quantity: item.quantity }));
  if (!sameItems(lines, unanswered.body.items) || (order.payer_name || "") !== (unanswered.body.payer_name || "")) return;
  if (state.busy) {
    unanswered.placed = order; // sendOrder, still trying, takes it as its answer
    return;
  }
  unanswered = null;
  state.error = "";
  if (order.status === "pre_order") {
    openPaying(order.id);
  } else {
    if ($("#cart-sheet").open) closeSheet("orders");
    toast("주문이 접수되었어요. 주방에 전달했습니다.", "success");
  }
}

async function orderFailed(error) {
  let message = error.detail;
  if (error.orderUnanswered && error.status !== 429) {
    message = "연결이 불안정해 주문이 접수됐는지 확인하지 못했어요. 다시 누르셔도 같은 주문은 한 번만 접수돼요.";
  }
  if (error.code === "table_closed") {
    // Closed since this page last heard: the server knows better. The cart stays for when it opens.
    openingRequired = true;
    state.table = { ...state.table, is_open: false };
    state.error = "";
    renderOpenState();
    toast("아직 주문을 받지 않는 테이블이에요. 직원이 테이블을 열면 주문할 수 있어요.", "warn", 7000);
    return;
  }
  if (error.code === "cart_changed") {
    // Another phone ordered from this cart since this one last heard: those dishes are on their way already.
    adoptCart(error.body.cart);
    message = "다른 휴대폰에서 이미 주문했거나 장바구니가 바뀌었어요. 장바구니를 확인하고 다시 주문해 주세요.";
  } else if (error.code === "sold_out" || error.code === "food_not_found") {
    const ids = error.body.food_ids || [];
    await refreshMenu();
    state.refused = new Set(ids); // after the menu's refresh: only a later restock forgives them
    const names = ids.map((id) => state.foods.get(id)?.name || "메뉴에 없는 항목");
    message = `${names.length ? `${[...new Set(names)].join(", ")}: ` : ""}품절되었거나 남은 수량이 부족해요. 빼고 다시 주문해 주세요.`;
  } else if (error.code === "amount_mismatch") {
    await refreshMenu();
    message = `메뉴 가격이 바뀌었어요. 새 합계 ${won(cartTotal())}을 확인하고 다시 주문해 주세요.`;
  } else if (error.code === "invalid" && error.body.errors) {
    const first = Object.values(error.body.errors).flat(Infinity)[0];
    if (first) message = `${error.detail} ${typeof first === "string" ? first : ""}`.trim();
  }
  state.error = message;
  renderSheet();
  if (!$("#cart-sheet").open) toast(message, "error", 7000);
}

/** The cart as the server has it, with its version: what an order placed from it sends. */
async function cartForOrder() {
  if (!(await settleCart())) throw new ApiError(0, { detail: "장바구니를 저장하지 못했어요. 연결을 확인하고 다시 시도해 주세요." });
  return { items: orderLines(), cart_version: cart.server.version };
}

/** The order emptied the cart for every phone (cart.updated follows); show it empty here at once. */
function cartOrdered(version) {
  if (cart.server.version === version && cartSettled()) {
    cart.server = { ...cart.server, items: [] };
    recomputeCart();
  }
}

async function placeDirect() {
  if (state.busy || !orderLines().length) return;
  state.busy = true;
  state.error = "";
  renderSheet();
  try {
    const { items, cart_version } = await cartForOrder();
    if (!items.length) throw new ApiError(400, { code: "cart_empty", detail: "장바구니가 비었어요." });
    const order = await sendOrder("/api/orders/", { table_id: tableId, items, cart_version }, (placed) => placed);
    upsertOrder(order);
    cartOrdered(cart_version);
    state.refused.clear();
    state.busy = false;
    closeSheet("orders");
    renderAll();
    toast("주문이 접수되었어요. 주방에 전달했습니다.", "success");
  } catch (error) {
    state.busy = false;
    await orderFailed(error instanceof ApiError ? error : new ApiError(0, {}));
  }
}

async function placePreOrder(payerName) {
  if (state.busy || !orderLines().length) return;
  if (!payerName) {
    state.error = "입금자명을 입력해 주세요.";
    return renderSheet();
  }
  save("payer-name", payerName);
  state.busy = true;
  state.error = "";
  renderSheet();
  try {
    const { items, cart_version } = await cartForOrder();
    if (!items.length) throw new ApiError(400, { code: "cart_empty", detail: "장바구니가 비었어요." });
    const result = await sendOrder(
      `/api/orders/pre-order/${tableId}/`,
      { payer_name: payerName, total_amount: cartTotal(), items, cart_version },
      // The pay link is not in the Order: the paying view asks payment-status for it.
      (placed) => ({ order_id: placed.id, order_number: placed.order_number, total_amount: placed.total_amount, expires_at: placed.expires_at }),
    );
    payLinks[result.order_id] = {
      redirect_url: result.redirect_url,
      message: result.message,
      total_amount: result.total_amount,
      order_number: result.order_number,
      expires_at: result.expires_at,
      payer_name: payerName,
      bank_name: result.bank_name,
      bank_account_no: result.bank_account_no,
    };
    save(PAY_KEY, payLinks);
    cartOrdered(cart_version);
    state.refused.clear();
    state.busy = false;
    state.payingOrderId = result.order_id;
    state.sheet = "paying";
    renderAll();
    renderSheet();
  } catch (error) {
    state.busy = false;
    await orderFailed(error instanceof ApiError ? error : new ApiError(0, {}));
  }
}

// --- staff call -------------------------------------------------------------------------------------

let unansweredCall = null; // {text, key, sentAt}: the call whose answer never came; its key goes with the next tap

async function callStaff(event) {
  event.preventDefault();
  const button = $("#call-send");
  const label = button.textContent;
  const errorBox = $("#call-error");
  errorBox.hidden = true;
  button.disabled = true;
  const body = { message: $("#call-message").value.trim() };
  const text = JSON.stringify(body);
  // Only a tap soon after: much later the same words are a new call, not the lost one sent again.
  const fresh = unansweredCall && Date.now() - unansweredCall.sentAt <= UNANSWERED_MATCH_MS;
  if (!fresh || unansweredCall.text !== text) unansweredCall = { text, key: uuid(), sentAt: 0 };
  unansweredCall.sentAt = Date.now();
  const { key } = unansweredCall;
  try {
    await withResends(
      () => api(`/api/tables/${tableId}/call-staff/`, { method: "POST", body, idempotencyKey: key, timeoutMs: ORDER_TIMEOUT_MS }),
      { onResend: () => (button.textContent = "연결이 불안정해 다시 보내는 중…") },
    );
    unansweredCall = null;
    $("#call-sheet").close();
    $("#call-message").value = "";
    for (const chip of document.querySelectorAll("#call-chips .chip")) chip.setAttribute("aria-pressed", "false");
    toast("직원을 불렀어요. 곧 찾아갈게요.", "success");
  } catch (error) {
    if (!outcomeUnknown(error.status)) unansweredCall = null;
    if (error.code === "too_many_calls") {
      errorBox.textContent = `방금 호출하셨어요. ${error.body.retry_after ? `${error.body.retry_after}초 뒤에 ` : "잠시 후 "}다시 호출할 수 있어요.`;
    } else if (unansweredCall) {
      errorBox.textContent = "연결이 불안정해 호출이 전해졌는지 확인하지 못했어요. 다시 누르셔도 한 번만 호출돼요.";
    } else {
      errorBox.textContent = error.detail;
    }
    errorBox.hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

// --- live -------------------------------------------------------------------------------------------

function announce(before, order) {
  if (!before) return;
  if (before.status === "cancelled" && order.status === "completed") {
    // A deposit that came after the expiry revived it: the guest last read "취소", and may have put it back.
    toast("늦게 들어온 입금이 확인되어 취소됐던 주문이 다시 접수됐어요. 다시 담은 메뉴는 주문하지 않아도 돼요.", "success", 12000);
  } else if (before.status === "pre_order" && order.status === "completed") toast("입금이 확인됐어요. 주방에 전달했습니다.", "success");
  else if (before.status === "pre_order" && order.status === "cancelled") toast("입금 시간이 지나 선결제 주문이 취소됐어요.", "warn", 8000);
  else if (before.kitchen_status !== order.kitchen_status) {
    if (order.kitchen_status === "cooking" && before.kitchen_status === "queued") toast("주문하신 메뉴를 만들기 시작했어요.", "info");
    if (order.kitchen_status === "served") toast("메뉴가 나왔어요. 맛있게 드세요!", "success");
  } else if (order.refunded_amount > before.refunded_amount) {
    toast(`${won(order.refunded_amount - before.refunded_amount)} 환불되었어요.`, "info", 7000);
  }
}

async function reloadTab() {
  try {
    const tab = await api(`/api/tables/${tableId}/orders/`);
    state.table = tab.table;
    state.orders = new Map(tab.orders.map((order) => [order.id, order]));
    renderOpenState();
    renderOrders();
  } catch {
    // next snapshot
  }
}

function onMessage(msg) {
  switch (msg.type) {
    case "snapshot":
      state.snapshotSeen = true;
      freshFromServer();
      state.table = msg.table;
      setFoods(msg.foods);
      const known = state.orders;
      state.orders = new Map(msg.orders.map((order) => [order.id, order]));
      adoptCart(msg.cart, { fromSocket: true });
      renderAll();
      // Placed while this page was away (a reconnect): one of them may be this phone's unanswered order.
      for (const order of msg.orders) if (!known.has(order.id)) answeredBySocket(order);
      break;
    case "cart.updated":
      adoptCart(msg.cart, { fromSocket: true, live: true });
      break;
    case "food.updated":
      // A sold-out food stays in the cart, marked; the order is what gets refused.
      state.foods.set(msg.food.id, msg.food);
      forgiveRestocked();
      renderFoods();
      renderCart();
      break;
    case "order.created":
    case "order.paid":
    case "order.updated": {
      const before = state.orders.get(msg.order.id);
      upsertOrder(msg.order);
      announce(before, msg.order);
      renderOrders();
      if (msg.type === "order.created") answeredBySocket(msg.order);
      break;
    }
    case "table.reset":
      reloadTab();
      // A close resets first and says table.closed right after: only a plain reset gets this note.
      setTimeout(() => {
        if (!isClosed()) toast("테이블이 정리되었어요. 새로 주문해 주세요.", "info");
      }, 500);
      break;
    case "table.opened":
      state.table = { ...state.table, ...msg.table };
      renderOpenState();
      if (openingRequired) {
        switchTab("menu");
        toast("테이블이 열렸어요. 메뉴를 골라 주세요!", "success");
      }
      break;
    case "table.closed":
      // Closing archives the tab and ends the session: the next guests start with an empty one.
      state.table = { ...state.table, ...msg.table };
      state.orders = new Map([...state.orders].filter(([, order]) => order.status === "pre_order"));
      renderAll(); // the cart is emptied by the server (cart.updated)
      reloadTab();
      break;
    default:
      break;
  }
}

function start() {
  const indicator = liveIndicator($("#live"));
  for (const button of document.querySelectorAll(".tab")) button.addEventListener("click", () => switchTab(button.dataset.tab));
  $("#cart-open").addEventListener("click", () => openSheet("cart"));
  for (const button of [$("#call-open"), $("#wait-call")]) {
    button.addEventListener("click", () => {
      $("#call-error").hidden = true;
      openModal($("#call-sheet"));
    });
  }
  const chips = [...document.querySelectorAll("#call-chips .chip")];
  const pressChip = (pressed) => chips.forEach((chip) => chip.setAttribute("aria-pressed", String(chip === pressed)));
  for (const chip of chips) {
    chip.addEventListener("click", () => {
      $("#call-message").value = chip.textContent;
      pressChip(chip);
    });
  }
  $("#call-message").addEventListener("input", () => pressChip(null));
  $("#call-form").addEventListener("submit", callStaff);
  for (const sheet of document.querySelectorAll("dialog.sheet")) {
    sheet.addEventListener("click", (event) => {
      if (event.target === sheet || event.target.closest("[data-close]")) sheet.close();
    });
  }
  window.addEventListener("online", () => {
    if ((cart.pending.size || cart.unsent) && !cart.inflight) scheduleCartWrite(0); // taps kept while offline go out now
  });
  $("#cart-sheet").addEventListener("close", () => {
    state.error = "";
  });
  setInterval(() => {
    for (const node of document.querySelectorAll("[data-expires]")) node.textContent = remaining(node.dataset.expires);
    // A pending pre-order that is not in the tab (a reset archived it) hears no event when it is paid:
    // its open pay sheet asks every few seconds, so the guest never pays it twice.
    const id = state.payingOrderId;
    const paying = $("#cart-sheet").open && state.sheet === "paying" && id;
    if (paying && state.snapshotSeen && !state.orders.has(id) && (state.payStatus[id] || "pre_order") === "pre_order") {
      askPayStatus(id, { olderThanMs: PAY_STATUS_POLL_MS });
    }
  }, 1000);

  window.addEventListener("pagehide", keepNow);
  restoreKept();
  keepForOffline("/t/sw.js", "/t/");

  // First paint over HTTP; the socket's snapshot (now and after every reconnect) is the truth.
  Promise.all([api("/api/foods/"), api(`/api/tables/${tableId}/orders/`), api(`/api/tables/${tableId}/cart/`)])
    .then(([foods, tab, shared]) => {
      if (state.snapshotSeen) return;
      freshFromServer();
      setFoods(foods);
      state.table = tab.table;
      state.orders = new Map(tab.orders.map((order) => [order.id, order]));
      adoptCart(shared);
      renderAll();
    })
    .catch(() => {});

  connectLive(`/ws/tables/${tableId}/`, {
    onMessage,
    onMenuStale: refreshMenu,
    onState: (connection, info) => {
      indicator(connection, info);
      if (connection === "missing") toast("테이블을 찾을 수 없어요. QR을 다시 찍어 주세요.", "error", 10000);
    },
  });
}

start();
